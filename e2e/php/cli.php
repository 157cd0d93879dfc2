<?php
// Command-line front of WebmanApi for the end-to-end tests: one sub-command
// per call a webman/push backend makes, the answer as one JSON line.
//
//   php cli.php trigger CHANNEL[,CHANNEL…] EVENT DATA_JSON [SOCKET_ID]
//   php cli.php channel CHANNEL [INFO]
//   php cli.php channels [PREFIX] [INFO]
//   php cli.php users CHANNEL
//   php cli.php auth CHANNEL SOCKET_ID
//   php cli.php presence-auth CHANNEL SOCKET_ID USER_ID [USER_INFO_JSON]
//
// The API calls print {"status":…,"body":"…"}; the auth commands print
// the answer a backend sends its client. Settings come from the
// environment: PUSHD_API_URL, APP_KEY, APP_SECRET, and optionally APP_ID
// (default 1024, as webman's Api) and AUTH_VERSION (default none).

declare(strict_types=1);

require __DIR__ . '/WebmanApi.php';

function setting(string $name, ?string $default = null): string
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        if ($default === null) {
            fwrite(STDERR, "missing environment variable $name\n");
            exit(2);
        }
        return $default;
    }
    return $v;
}

function arg(array $argv, int $i, ?string $default = null): string
{
    if (!isset($argv[$i])) {
        if ($default === null) {
            fwrite(STDERR, "missing argument $i; see the usage at the top of cli.php\n");
            exit(2);
        }
        return $default;
    }
    return $argv[$i];
}

$authVersion = getenv('AUTH_VERSION');
$api = new WebmanApi(
    setting('PUSHD_API_URL'),
    setting('APP_KEY'),
    setting('APP_SECRET'),
    setting('APP_ID', '1024'),
    $authVersion === false || $authVersion === '' ? null : $authVersion
);

$cmd = arg($argv, 1);
switch ($cmd) {
    case 'trigger':
        $data = json_decode(arg($argv, 4), true, 512, JSON_THROW_ON_ERROR);
        $socketId = isset($argv[5]) ? $argv[5] : null;
        $out = $api->trigger(explode(',', arg($argv, 2)), arg($argv, 3), $data, $socketId);
        break;
    case 'channel':
        $info = arg($argv, 3, '');
        $out = $api->channelInfo(arg($argv, 2), $info === '' ? [] : ['info' => $info]);
        break;
    case 'channels':
        $params = [];
        if (arg($argv, 2, '') !== '') {
            $params['filter_by_prefix'] = $argv[2];
        }
        if (arg($argv, 3, '') !== '') {
            $params['info'] = $argv[3];
        }
        $out = $api->channels($params);
        break;
    case 'users':
        $out = $api->users(arg($argv, 2));
        break;
    case 'auth':
        $out = $api->channelAuth(arg($argv, 2), arg($argv, 3));
        break;
    case 'presence-auth':
        // webman applications pass their numeric user ids as integers.
        $user = arg($argv, 4);
        $userId = ctype_digit($user) ? (int) $user : $user;
        $info = arg($argv, 5, '');
        $userInfo = $info === '' ? null : json_decode($info, true, 512, JSON_THROW_ON_ERROR);
        $out = $api->presenceAuth(arg($argv, 2), arg($argv, 3), $userId, $userInfo);
        break;
    default:
        fwrite(STDERR, "unknown command $cmd; see the usage at the top of cli.php\n");
        exit(2);
}
echo json_encode($out, JSON_UNESCAPED_SLASHES), "\n";
