<?php
// A webhook receiver for `php -S 127.0.0.1:PORT hook_router.php`, checking
// each request as webman/push's receiver does (WebmanApi::verifyWebhook)
// and reading what webman's receiver reads: channel_added and
// channel_removed (channels online and offline), user_added and
// user_removed. Each request becomes one JSON line in $HOOK_LOG:
// {"path","ok"} plus, when authentic, time_ms and what it learned.
// Unauthentic requests are answered 401 as webman's receiver does.
// Settings: APP_KEY, APP_SECRET, HOOK_LOG in the environment.

declare(strict_types=1);

require __DIR__ . '/WebmanApi.php';

$api = new WebmanApi('http://unused', (string) getenv('APP_KEY'), (string) getenv('APP_SECRET'));
$raw = (string) file_get_contents('php://input');
$path = (string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$payload = null;
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $payload = $api->verifyWebhook($_SERVER['HTTP_X_PUSHER_KEY'] ?? null, $_SERVER['HTTP_X_PUSHER_SIGNATURE'] ?? null, $raw);
}

$record = ['path' => $path, 'ok' => $payload !== null];
if ($payload !== null) {
    $learned = ['channels_online' => [], 'channels_offline' => [], 'users_added' => [], 'users_removed' => [], 'other' => []];
    foreach ($payload['events'] as $event) {
        $name = $event['name'] ?? '';
        $channel = $event['channel'] ?? '';
        switch ($name) {
            case 'channel_added':
                $learned['channels_online'][] = $channel;
                break;
            case 'channel_removed':
                $learned['channels_offline'][] = $channel;
                break;
            case 'user_added':
                $learned['users_added'][] = ['channel' => $channel, 'user_id' => $event['user_id'] ?? null];
                break;
            case 'user_removed':
                $learned['users_removed'][] = ['channel' => $channel, 'user_id' => $event['user_id'] ?? null];
                break;
            default:
                $learned['other'][] = $name;
        }
    }
    $record['time_ms'] = $payload['time_ms'] ?? null;
    $record += $learned;
}
file_put_contents((string) getenv('HOOK_LOG'), json_encode($record, JSON_UNESCAPED_SLASHES) . "\n", FILE_APPEND | LOCK_EX);

if ($payload === null) {
    http_response_code(401);
    echo '401 Not authenticated';
    return true;
}
echo 'OK';
return true;
