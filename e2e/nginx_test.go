package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestBehindNginx puts Debian's nginx in front of pushd with the location
// block of webman/push's documentation and connects through it.
func TestBehindNginx(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
	}
	if _, err := os.Stat(nginx); err != nil {
		t.Fatalf("nginx is not installed (go tool task deps installs it): %v", err)
	}
	s := startPushd(t, "")
	dir := t.TempDir()
	port := freePort(t)
	conf := `
worker_processes 1;
error_log ` + filepath.Join(dir, "error.log") + `;
pid ` + filepath.Join(dir, "nginx.pid") + `;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ` + dir + `/body;
  proxy_temp_path ` + dir + `/proxy;
  fastcgi_temp_path ` + dir + `/fastcgi;
  uwsgi_temp_path ` + dir + `/uwsgi;
  scgi_temp_path ` + dir + `/scgi;
  server {
    listen 127.0.0.1:` + strconv.Itoa(port) + `;
    location /app/app-key {
      proxy_pass http://` + s.WSAddr + `;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "Upgrade";
      proxy_set_header X-Real-IP $remote_addr;
    }
    location /apps/ {
      proxy_pass http://` + s.APIAddr + `;
    }
  }
}
`
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", confPath, "-g", "daemon off;")
	// Its own process group: the master and its workers end together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", b)
		}
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, "nginx listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	front := &server{WSAddr: addr, APIAddr: addr}
	c := dialRaw(t, front.WSURL("app-key")+"?protocol=7")
	c.established()
	c.send(`{"event":"pusher:subscribe","data":{"channel":"via-nginx"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	trigger(t, front, "app-key", "app-secret", "/apps/1/events", `{"name":"proxied","channel":"via-nginx","data":"ok"}`)
	if f := c.expect("proxied"); f.dataString(t) != "ok" {
		t.Fatalf("through nginx: %s", f.raw)
	}
}
