<?php
// A test client for Pushd's HTTP API that signs requests the way
// webman/push's PHP Api class does: auth_key and auth_timestamp (no
// auth_version unless asked), body_md5 on a request with a body, the
// parameters sorted by key, "METHOD\nPATH\nquery" signed with HMAC-SHA256,
// and every path under /apps/1024 whatever the app's id. Written for the
// end-to-end tests (e2e/php_test.go); it is not webman's code.

declare(strict_types=1);

final class WebmanApi
{
    /** @var string base URL of the API, e.g. http://127.0.0.1:3232 */
    private string $base;
    private string $key;
    private string $secret;
    /** @var string the id in /apps/{id}/…; webman's Api always sends 1024 */
    private string $appId;
    /** @var ?string auth_version to add ("1.0" as the official Pusher SDKs do), or null as webman does */
    private ?string $authVersion;

    public function __construct(string $base, string $key, string $secret, string $appId = '1024', ?string $authVersion = null)
    {
        $this->base = rtrim($base, '/');
        $this->key = $key;
        $this->secret = $secret;
        $this->appId = $appId;
        $this->authVersion = $authVersion;
    }

    /**
     * Publishes one event to one or several channels; a socket id excludes
     * that connection. $data that is not a string is JSON-encoded first.
     *
     * @param string|string[] $channels
     * @return array{status:int, body:string}
     */
    public function trigger($channels, string $event, $data, ?string $socketId = null): array
    {
        $payload = [
            'name' => $event,
            'data' => is_string($data) ? $data : json_encode($data),
            'channels' => array_values((array) $channels),
        ];
        if ($socketId !== null) {
            $payload['socket_id'] = $socketId;
        }
        return $this->request('POST', '/events', [], json_encode($payload));
    }

    /** @return array{status:int, body:string} GET /channels/{channel} */
    public function channelInfo(string $channel, array $params = []): array
    {
        return $this->request('GET', '/channels/' . $channel, $params);
    }

    /** @return array{status:int, body:string} GET /channels */
    public function channels(array $params = []): array
    {
        return $this->request('GET', '/channels', $params);
    }

    /** @return array{status:int, body:string} GET /channels/{channel}/users */
    public function users(string $channel): array
    {
        return $this->request('GET', '/channels/' . $channel . '/users');
    }

    /**
     * The answer a backend gives a client's auth request for a private
     * channel, or with $channelData for a presence channel: auth is
     * "key:hex HMAC-SHA256 of socket_id:channel[:channel_data]".
     */
    public function channelAuth(string $channel, string $socketId, ?string $channelData = null): array
    {
        $signed = $socketId . ':' . $channel;
        if ($channelData !== null) {
            $signed .= ':' . $channelData;
        }
        $answer = ['auth' => $this->key . ':' . hash_hmac('sha256', $signed, $this->secret)];
        if ($channelData !== null) {
            $answer['channel_data'] = $channelData;
        }
        return $answer;
    }

    /** The auth answer for a presence channel: channel_data is the JSON of user_id and user_info. */
    public function presenceAuth(string $channel, string $socketId, $userId, ?array $userInfo = null): array
    {
        $member = ['user_id' => $userId];
        if ($userInfo !== null) {
            $member['user_info'] = $userInfo;
        }
        return $this->channelAuth($channel, $socketId, json_encode($member));
    }

    /**
     * Checks a webhook request as webman/push's receiver does: X-Pusher-Key
     * is this app's key and X-Pusher-Signature the hex HMAC-SHA256 of the
     * raw body with the secret. Returns the decoded body, or null when the
     * request is not authentic.
     */
    public function verifyWebhook(?string $keyHeader, ?string $signatureHeader, string $rawBody): ?array
    {
        if ($keyHeader === null || $signatureHeader === null || !hash_equals($this->key, $keyHeader)) {
            return null;
        }
        if (!hash_equals(hash_hmac('sha256', $rawBody, $this->secret), $signatureHeader)) {
            return null;
        }
        $payload = json_decode($rawBody, true);
        return is_array($payload) && isset($payload['events']) && is_array($payload['events']) ? $payload : null;
    }

    /**
     * Sends a signed request to /apps/{id}{$path}.
     *
     * @return array{status:int, body:string}
     */
    private function request(string $method, string $path, array $params = [], string $body = ''): array
    {
        $path = '/apps/' . $this->appId . $path;
        $query = $this->signedQuery($method, $path, $params, $body);
        $curl = curl_init($this->base . $path . '?' . $query);
        if ($curl === false) {
            throw new RuntimeException('curl_init failed');
        }
        curl_setopt_array($curl, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT => 5,
            CURLOPT_TIMEOUT => 10,
            CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Expect:'],
        ]);
        if ($method === 'POST') {
            curl_setopt($curl, CURLOPT_POSTFIELDS, $body);
        }
        $answer = curl_exec($curl);
        if ($answer === false) {
            $err = curl_error($curl);
            curl_close($curl);
            throw new RuntimeException("$method $path: $err");
        }
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        curl_close($curl);
        return ['status' => $status, 'body' => (string) $answer];
    }

    /**
     * The query string with auth_signature: the parameters, sorted by key,
     * joined as k=v with & and not URL-escaped (webman's Api sends them so
     * too), are signed after "METHOD\nPATH\n".
     */
    private function signedQuery(string $method, string $path, array $params, string $body): string
    {
        $params['auth_key'] = $this->key;
        $params['auth_timestamp'] = (string) time();
        if ($this->authVersion !== null) {
            $params['auth_version'] = $this->authVersion;
        }
        if ($body !== '') {
            $params['body_md5'] = md5($body);
        }
        ksort($params);
        $pairs = [];
        foreach ($params as $k => $v) {
            $pairs[] = $k . '=' . $v;
        }
        $query = implode('&', $pairs);
        $signature = hash_hmac('sha256', $method . "\n" . $path . "\n" . $query, $this->secret);
        return $query . '&auth_signature=' . $signature;
    }
}
