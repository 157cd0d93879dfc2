package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestComposeFile checks deploy/compose where it cannot run (no registry
// for the nats and nginx images here): podman-compose turns it into the
// podman commands it would run (--dry-run, on a storage of the test's own),
// nats-server checks nats.conf (-t, which refuses unknown fields), nginx
// checks nginx.conf (-t), and the topology is what the docs promise: three
// clustered JetStream servers, three gateways that list all three, nginx in
// front of the three with the WebSocket block and the API.
func TestComposeFile(t *testing.T) {
	dir := repo(t, "deploy", "compose")
	b, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Services map[string]struct {
			Image       string
			Build       map[string]any
			Command     []string
			Environment map[string]string
			Volumes     []string
			Ports       []string
			DependsOn   any `yaml:"depends_on"`
			Healthcheck struct{ Test []string }
		}
		Volumes map[string]any
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	names := []string{"nats-1", "nats-2", "nats-3"}
	gateways := []string{"pushd-1", "pushd-2", "pushd-3"}
	for _, n := range names {
		s, ok := file.Services[n]
		if !ok {
			t.Fatalf("no service %s", n)
		}
		if !strings.HasPrefix(s.Image, "nats:") || !slices.Contains(s.Command, "--server_name") ||
			s.Command[slices.Index(s.Command, "--server_name")+1] != n {
			t.Errorf("%s: image %q command %q, want a nats image named %s", n, s.Image, s.Command, n)
		}
		if _, declared := file.Volumes[n]; !declared || !slices.Contains(s.Volumes, n+":/data") {
			t.Errorf("%s: volumes %q, want its own named volume on /data", n, s.Volumes)
		}
		if len(s.Healthcheck.Test) == 0 {
			t.Errorf("%s: no healthcheck", n)
		}
	}
	for _, g := range gateways {
		s, ok := file.Services[g]
		if !ok {
			t.Fatalf("no service %s", g)
		}
		if s.Build["context"] != "../.." {
			t.Errorf("%s: build %v, want the repository's Dockerfile", g, s.Build)
		}
		urls := s.Environment["PUSHD_NATS_URL"]
		for _, n := range names {
			if !strings.Contains(urls, "nats://"+n+":4222") {
				t.Errorf("%s: PUSHD_NATS_URL %q does not list %s", g, urls, n)
			}
		}
	}
	if ng := file.Services["nginx"]; !strings.HasPrefix(ng.Image, "nginx:") || !slices.Contains(ng.Ports, "8080:80") {
		t.Errorf("nginx: image %q ports %q, want nginx on 8080", ng.Image, ng.Ports)
	}

	// nats.conf: valid for nats-server, clustered, with JetStream.
	natsConf := filepath.Join(dir, "nats.conf")
	conf, _ := os.ReadFile(natsConf)
	for _, n := range names {
		if !strings.Contains(string(conf), "nats-route://"+n+":6222") {
			t.Errorf("nats.conf: no route to %s", n)
		}
	}
	if !regexp.MustCompile(`(?m)^jetstream \{`).Match(conf) {
		t.Error("nats.conf: no jetstream block")
	}
	bin := filepath.Join(t.TempDir(), "nats-server")
	run(t, 3*time.Minute, repo(t), nil, "go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	run(t, 30*time.Second, "", nil, bin, "-c", natsConf, "--server_name", "nats-1", "-t")

	// nginx.conf: valid for nginx once the gateways' names resolve (here
	// to loopback; in Compose, to the containers), with the upstreams.
	site, _ := os.ReadFile(filepath.Join(dir, "nginx.conf"))
	for _, g := range gateways {
		for _, port := range []string{"3131", "3232"} {
			if !strings.Contains(string(site), "server "+g+":"+port+";") {
				t.Errorf("nginx.conf: %s:%s not in an upstream", g, port)
			}
		}
	}
	for _, want := range []string{"location /app/", "proxy_set_header Upgrade $http_upgrade;", `proxy_set_header Connection "Upgrade";`,
		"location /apps/"} {
		if !strings.Contains(string(site), want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "site.conf"), regexp.MustCompile(`pushd-\d:`).ReplaceAll(site, []byte("127.0.0.1:")), 0o644); err != nil {
		t.Fatal(err)
	}
	main := "pid " + tmp + "/nginx.pid;\nerror_log " + tmp + "/error.log;\nevents {}\nhttp {\n  access_log off;\n" +
		"  client_body_temp_path " + tmp + "/body;\n  proxy_temp_path " + tmp + "/proxy;\n  include " + tmp + "/site.conf;\n}\n"
	if err := os.WriteFile(filepath.Join(tmp, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, 30*time.Second, "", nil, "nginx", "-t", "-p", tmp, "-c", filepath.Join(tmp, "nginx.conf"))

	// podman-compose: the podman commands `up` would run.
	st := t.TempDir()
	out := run(t, time.Minute, dir, nil, "podman-compose", "--dry-run",
		"--podman-args", "--root "+st+"/root --runroot "+st+"/run --network-config-dir "+st+"/net --volumepath "+st+"/vol",
		"-f", "compose.yaml", "up", "-d")
	for _, n := range names {
		if !regexp.MustCompile(`(?m)podman run .*--name=\S*` + n + `\S* .*-v \S*` + n + `:/data .*--server_name ` + n + "$").MatchString(out) {
			t.Errorf("podman-compose up would not run %s with its volume and name:\n%s", n, out)
		}
	}
	for _, g := range gateways {
		if !regexp.MustCompile(`(?m)podman run .*--name=\S*` + g + `\S* .*-e PUSHD_NATS_URL=nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222 .*pushd:local`).MatchString(out) {
			t.Errorf("podman-compose up would not run %s on the three NATS servers:\n%s", g, out)
		}
	}
	if !regexp.MustCompile(`(?m)podman run .*--name=\S*nginx\S* .*-v \S*/nginx.conf:/etc/nginx/conf.d/default.conf:ro .*-p 8080:80 `).MatchString(out) {
		t.Errorf("podman-compose up would not run nginx with nginx.conf on port 8080:\n%s", out)
	}
}
