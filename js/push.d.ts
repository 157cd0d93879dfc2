// Type declarations for Pushd's JavaScript clients: push.js (global Push),
// push-vue.js and uniapp-push.js (ES modules, default export Push),
// push-miniprogram.js (CommonJS, module.exports = Push).

export type ConnectionState =
  | 'initialized'
  | 'connecting'
  | 'connected'
  | 'unavailable'
  | 'failed'
  | 'disconnected';

export type Callback<T = any> = (data: T, metadata?: EventMetadata) => void;

/** Extra fields of an event: the sender of a presence client event, and the
 *  event's stream position (Pushd's resume extension). */
export interface EventMetadata {
  user_id?: string;
  seq?: number;
}

/** What the auth endpoint (or an authorizer) answers. */
export interface AuthData {
  auth: string;
  channel_data?: string;
  /** private-encrypted- channels (required there): the channel's 32-byte key in base64. */
  shared_secret?: string;
}

/** Payload of pusher:subscription_error. */
export interface SubscriptionError {
  type: string;
  error: string;
  status: number;
  body?: string;
}

/** Payload of the connection's 'error' event. */
export interface ConnectionError {
  type: string;
  data: { code: number | null; message: string };
  error?: unknown;
}

export type Authorizer = (
  channelName: string,
  socketId: string,
  callback: (error: Error | null, data?: AuthData | string) => void,
) => void;

export interface PushOptions {
  /** ws:// or wss:// URL of pushd's WebSocket port (without /app/...). Default: the page's host. */
  url?: string;
  app_key: string;
  /** URL of the app's auth endpoint: POSTed form fields channel_name and socket_id. Absolute
   *  (https://…) in a mini-program, which has no page origin. */
  auth?: string;
  /** Headers sent with the auth request. */
  authHeaders?: Record<string, string>;
  /** Extra form fields sent with the auth request. */
  authParams?: Record<string, string | number>;
  /** Replaces the auth request. */
  authorizer?: Authorizer;
  /** Send cookies with a cross-origin auth request (browser). */
  authWithCredentials?: boolean;
  /** Auth request timeout in ms (default 10000). */
  authTimeout?: number;
  /** ms of silence before pusher:ping (default 25000). */
  heartbeat?: number;
  /** ms to wait for any frame after a ping before reconnecting (default 10000). */
  pingTimeout?: number;
  /** First reconnect delay in ms, doubled per attempt with jitter (default 1000). */
  reconnectDelay?: number;
  /** Upper bound of the reconnect delay in ms (default 10000). */
  maxReconnectDelay?: number;
  /** ms of failed connecting before the state becomes 'unavailable' (default 10000). */
  unavailableTimeout?: number;
  /** Resume channels after a reconnect from the last event seen (default true). */
  resume?: boolean;
  /** Connect in the constructor (default true). */
  autoConnect?: boolean;
  /** uniapp-push.js only: the uni object (default the global uni). */
  uni?: unknown;
  /** push-miniprogram.js only: the wx object (default the global wx). */
  wx?: unknown;
}

export interface Emitter {
  on(event: string, callback: Callback, context?: any): this;
  off(event?: string, callback?: Callback, context?: any): this;
  emit(event: string, data?: any, metadata?: EventMetadata): this;
  on_global(callback: (event: string, data: any) => void): this;
  off_global(callback?: (event: string, data: any) => void): this;
  bind(event: string, callback: Callback, context?: any): this;
  unbind(event?: string, callback?: Callback, context?: any): this;
  bind_global(callback: (event: string, data: any) => void): this;
  unbind_global(callback?: (event: string, data: any) => void): this;
}

export interface Member {
  id: string;
  info: any;
}

export interface Members {
  count: number;
  myID: string | null;
  me: Member | null;
  get(id: string | number): Member | null;
  each(callback: (member: Member) => void): void;
  toArray(): Member[];
}

/** One subscription. On a private-encrypted- channel listeners get the data decrypted with the key from the
 *  auth answer's shared_secret; an event that does not decrypt is dropped with a console warning. */
export interface Channel extends Emitter {
  readonly name: string;
  readonly channelName: string;
  subscribed: boolean;
  subscriptionPending: boolean;
  /** Stream position of the last event received (resume extension). */
  lastSeq: number;
  /** Presence channels only. */
  members?: Members;
  subscriptionCount?: number;
  /** Sends a client event ('client-…'); queued until subscribed. False when refused locally.
   *  @throws Error named 'UnsupportedFeature' on a private-encrypted- channel (nothing is sent), as pusher-js does. */
  trigger(event: string, data?: any): boolean;
  unsubscribe(): void;
}

export interface PresenceChannel extends Channel {
  members: Members;
}

export interface Connection extends Emitter {
  state: ConnectionState;
  socket_id: string | null;
  send(frame: string): boolean;
  connect(): void;
  disconnect(): void;
}

// The class's emitter methods are Emitter's (declaration merging).
interface Push extends Emitter {}
declare class Push {
  constructor(options: PushOptions);
  static VERSION: string;
  static instances: Push[];
  readonly key: string;
  readonly config: PushOptions;
  connection: Connection;
  channels: Record<string, Channel>;
  subscribe(name: `presence-${string}`): PresenceChannel;
  subscribe(name: string): Channel;
  unsubscribe(name: string): void;
  unsubscribeAll(): void;
  channel(name: string): Channel | null;
  allChannels(): Channel[];
  connect(): void;
  disconnect(): void;
}

export { Push };
export default Push;

declare global {
  interface Window {
    Push: typeof Push;
  }
}
