{{/* The release's resource name, at most 63 characters. */}}
{{- define "pushd.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the gateways. */}}
{{- define "pushd.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every resource. */}}
{{- define "pushd.labels" -}}
{{ include "pushd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Gateways: one with the embedded NATS (its store has one owner). */}}
{{- define "pushd.replicas" -}}
{{- if .Values.nats.url }}{{ .Values.replicaCount }}{{ else }}1{{ end -}}
{{- end -}}

{{/* The Secret holding pushd.yaml. */}}
{{- define "pushd.configSecret" -}}
{{- .Values.existingSecret | default (include "pushd.fullname" .) -}}
{{- end -}}

{{/* pushd.yaml: config, apps and what the chart sets. */}}
{{- define "pushd.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $_ := set $cfg "apps" .Values.apps -}}
{{- if .Values.nats.credentialsSecret -}}
{{- $_ := set $cfg "nats" (dict "creds_file" (printf "/etc/pushd-nats/%s" .Values.nats.credentialsKey)) -}}
{{- end -}}
{{- if .Values.nats.replicas -}}
{{- $_ := set $cfg "replicas" .Values.nats.replicas -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
