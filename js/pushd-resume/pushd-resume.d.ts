/**
 * pushd-resume: nothing lost across a reconnect for stock pusher-js (7, 8)
 * and Laravel Echo on Pushd. See README.md.
 */

/** The parts of a pusher-js `Pusher` instance the module uses. */
export interface PusherLike {
  send_event(name: string, data: any, channel?: string): boolean;
  unsubscribe(channelName: string): void;
  channel(name: string): { emit(event: string, data?: any): any } | undefined;
  connection: {
    socket_id?: string;
    bind(event: string, callback: (...args: any[]) => void): any;
    unbind(event: string, callback?: (...args: any[]) => void): any;
  };
}

/** What `pushd:resume_failed` carries: the events missed since `from` could not all be replayed. */
export interface ResumeFailed {
  /** The channel. */
  channel: string;
  /** The position the channel resumed from (the last event it saw), or null. */
  from: number | null;
  /**
   * The first position the server still holds: every event of the channel from it on can be read with
   * `GET /apps/{id}/channels/{channel}/events?after_seq={first_seq - 1}`. Greater than `from + 1`: events in
   * between are gone for good. null when the server could not tell.
   */
  first_seq: number | null;
  /** The position live events continue after (the channel's position from now on), or null. */
  seq: number | null;
}

export interface ResumeOptions {
  /** Called on every `pushd:resume_failed`, after the channel's own listeners. */
  onResumeFailed?: (channel: string, info: ResumeFailed) => void;
}

export interface ResumeHandle {
  /** The module's version. */
  readonly version: string;
  /** The last stream position seen on a channel (in a handler of one of its events: that event's), or undefined. */
  position(channel: string): number | undefined;
  /** Puts the Pusher instance back as it was; positions are forgotten. */
  disable(): void;
}

/**
 * Makes a pusher-js instance resume its channels after a reconnect: call it right after `new Pusher(...)`
 * (Laravel Echo: on `echo.connector.pusher`), before subscribing. A second call on the same instance returns
 * the first handle.
 */
export function enableResume(pusher: PusherLike, options?: ResumeOptions): ResumeHandle;

export default enableResume;
