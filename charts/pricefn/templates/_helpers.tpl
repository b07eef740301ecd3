{{/*
Labels of an object of the chart: pricefn.labels (dict "name" NAME) gives
app.kubernetes.io/name (when NAME is set) and app.kubernetes.io/part-of.
*/}}
{{- define "pricefn.labels" -}}
{{- with get . "name" -}}
app.kubernetes.io/name: {{ . }}
{{ end -}}
app.kubernetes.io/part-of: pricefn
{{- end }}

{{/* Where functions send the events they emit: the Broker's ingress. */}}
{{- define "pricefn.sink" -}}
http://{{ .Values.broker.ingressHost }}/{{ .Release.Namespace }}/{{ .Values.broker.name }}
{{- end }}

{{/* The public API's base URL: publicURL, else https://DOMAIN, else none. */}}
{{- define "pricefn.publicURL" -}}
{{- if .Values.publicURL }}{{ .Values.publicURL }}{{ else if .Values.kourier.domain }}https://{{ .Values.kourier.domain }}{{ end }}
{{- end }}

{{/* A Trigger's delivery: the shared retry schedule, then timeout. */}}
{{- define "pricefn.retry" -}}
retry: {{ .Values.broker.delivery.retry }}
backoffPolicy: {{ .Values.broker.delivery.backoffPolicy }}
backoffDelay: {{ .Values.broker.delivery.backoffDelay }}
{{- end }}

{{/* The aggregator's dead-letter path, the deadLetterSink of every Trigger. */}}
{{- define "pricefn.deadLetterSink" -}}
deadLetterSink:
  ref:
    apiVersion: serving.knative.dev/v1
    kind: Service
    name: pricefn-aggregator
  uri: /dead-letter
{{- end }}

{{/*
The metadata annotations of a Knative Service: the ingress class (Kourier).
*/}}
{{- define "pricefn.serviceAnnotations" -}}
{{- if .Values.kourier.ingressClass }}
annotations:
  networking.knative.dev/ingress.class: {{ .Values.kourier.ingressClass }}
{{- end }}
{{- end }}

{{/*
Autoscaling annotations of a revision template: the KPA on concurrency,
with the Service's target and scale bounds (dict "s" SETTINGS), and
target-utilization-percentage, window and scale-down-delay only when the
Service sets them (Knative's defaults otherwise: 70, 60s, 0s).
*/}}
{{- define "pricefn.autoscaling" -}}
autoscaling.knative.dev/class: kpa.autoscaling.knative.dev
autoscaling.knative.dev/metric: concurrency
autoscaling.knative.dev/target: {{ .s.target | toString | quote }}
{{- with get .s "targetUtilizationPercentage" }}
autoscaling.knative.dev/target-utilization-percentage: {{ . | toString | quote }}
{{- end }}
{{- /* Helm reads YAML numbers as float64, which toString writes 1e+06. */}}
autoscaling.knative.dev/min-scale: {{ .s.minScale | int | toString | quote }}
autoscaling.knative.dev/max-scale: {{ .s.maxScale | int | toString | quote }}
{{- with get .s "window" }}
autoscaling.knative.dev/window: {{ . | quote }}
{{- end }}
{{- with get .s "scaleDownDelay" }}
autoscaling.knative.dev/scale-down-delay: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Checks a Service's settings that the schema cannot compare (dict "name"
NAME "s" SETTINGS), and fails the render naming the values.
*/}}
{{- define "pricefn.check" -}}
{{- $s := .s -}}
{{- if and (gt (int $s.maxScale) 0) (gt (int $s.minScale) (int $s.maxScale)) }}
{{- fail (printf "services.%s: minScale %v above maxScale %v" .name $s.minScale $s.maxScale) }}
{{- end }}
{{- include "pricefn.checkResources" (dict "name" (printf "services.%s" .name) "r" $s.resources) }}
{{- if and (hasKey $s "maxWaitSeconds") (ge (int $s.maxWaitSeconds) (int $s.timeoutSeconds)) }}
{{- fail (printf "services.%s: maxWaitSeconds %v must be below timeoutSeconds %v, or Knative cuts the long poll with a 504" .name $s.maxWaitSeconds $s.timeoutSeconds) }}
{{- end }}
{{- end }}

{{/*
Checks a container's resources (dict "name" VALUES-PATH "r" RESOURCES):
a request above its limit, which Kubernetes refuses the pod for.
*/}}
{{- define "pricefn.checkResources" -}}
{{- range $r := list "cpu" "memory" }}
{{- $req := get $.r.requests $r }}
{{- $lim := get $.r.limits $r }}
{{- if and $req $lim (gt (include "pricefn.quantity" $req | float64) (include "pricefn.quantity" $lim | float64)) }}
{{- fail (printf "%s.resources: requests.%s %v above limits.%s %v: Kubernetes refuses the pod" $.name $r $req $r $lim) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Checks a Trigger's attempt timeout against its subscriber's timeoutSeconds
(dict "trigger" NAME "t" TRIGGER "service" NAME "s" SETTINGS).
*/}}
{{- define "pricefn.checkTrigger" -}}
{{- if ge (int .t.timeoutSeconds) (int .s.timeoutSeconds) }}
{{- fail (printf "triggers.%s.timeoutSeconds %v must be below services.%s.timeoutSeconds %v, so that the Broker, not Knative, ends a stuck attempt and retries it" .trigger .t.timeoutSeconds .service .s.timeoutSeconds) }}
{{- end }}
{{- end }}

{{/*
Checks the chunk cost that a splitting Service (dict "name" NAME "s"
SETTINGS "root" $) gives ingress.Split, PRICEFN_CHUNK_COST (1s of one core
by default), against the chunk.requested Trigger's attempt timeout. A pricer
pod prices containerConcurrency chunks at once on its requests.cpu cores: a
chunk that takes the whole attempt there times out at every attempt, is
priced again each time and is dead-lettered in the end.
*/}}
{{- define "pricefn.checkChunkCost" -}}
{{- $cost := get .s.env "PRICEFN_CHUNK_COST" | default "1s" | toString }}
{{- $p := .root.Values.services.pricer }}
{{- /* A request of no CPU says nothing of the cores a pod gets: one. */}}
{{- $cores := include "pricefn.quantity" $p.resources.requests.cpu | float64 | default 1.0 }}
{{- $atOnce := max 1 (int $p.containerConcurrency) }}
{{- $took := divf (mulf (include "pricefn.seconds" $cost | float64) $atOnce) $cores }}
{{- $timeout := .root.Values.triggers.chunkRequested.timeoutSeconds }}
{{- if ge $took (float64 $timeout) }}
{{- fail (printf "services.%s.env.PRICEFN_CHUNK_COST %s: chunks of %s of one core, %d at once on a pricer of %v cores (services.pricer containerConcurrency, requests.cpu), take %.1f s each, at or above triggers.chunkRequested.timeoutSeconds %v: every attempt would time out and the chunk be dead-lettered" .name $cost $cost $atOnce $cores $took $timeout) }}
{{- end }}
{{- end }}

{{/*
Checks the batch timeout that a splitting Service (dict "name" NAME "s"
SETTINGS) gives ingress, PRICEFN_BATCH_TIMEOUT: 0 (sized from the batch's
estimated pricing time) or within a batch's own deadline's bounds, 1s to
24h, as pricefn refuses at startup (config.checkBatchTimeout).
*/}}
{{- define "pricefn.checkBatchTimeout" -}}
{{- $v := get .s.env "PRICEFN_BATCH_TIMEOUT" | default "0s" | toString }}
{{- $sec := include "pricefn.seconds" $v | float64 }}
{{- if and (ne $sec 0.0) (or (lt $sec 1.0) (gt $sec 86400.0)) }}
{{- fail (printf "/services/%s/env/PRICEFN_BATCH_TIMEOUT %s: want 0 (sized from the batch's estimated pricing time) or 1s to 24h, as a batch's own deadline" .name $v) }}
{{- end }}
{{- end }}

{{/* A Go duration that the schema takes (1.5s, 1m30s, 500ms), in seconds. */}}
{{- define "pricefn.seconds" -}}
{{- $sum := 0.0 }}
{{- range $part := regexFindAll "([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)" . -1 }}
{{- $num := regexFind "^[0-9.]+" $part }}
{{- $unit := get (dict "ns" 1e-9 "us" 1e-6 "µs" 1e-6 "μs" 1e-6 "ms" 1e-3 "s" 1.0 "m" 60.0 "h" 3600.0) (trimPrefix $num $part) }}
{{- $sum = addf $sum (mulf (float64 $num) $unit) }}
{{- end }}
{{- $sum }}
{{- end }}

{{/*
Checks the event key Secret's value as the functions read it when they
start (auth.ParseKeys): one or two keys, one a line, of 32 characters or
more; '#' starts a comment. The chart's placeholder (REPLACE-ME) renders,
with the warning of NOTES.txt.
*/}}
{{- define "pricefn.checkEventKey" -}}
{{- if not (contains "REPLACE-ME" .) }}
{{- $keys := 0 }}
{{- range $n, $line := splitList "\n" . }}
{{- $line = regexReplaceAll "#.*" $line "" | trim }}
{{- if $line }}
{{- if lt (len $line) 32 }}
{{- fail (printf "secrets.eventKey.value line %d: key shorter than 32 characters, which the functions refuse at start" (add1 $n)) }}
{{- end }}
{{- $keys = add1 $keys }}
{{- end }}
{{- end }}
{{- if not (and (ge $keys 1) (le $keys 2)) }}
{{- fail (printf "secrets.eventKey.value holds %d keys: want the signing key, and on a second line the key being rotated out (the functions refuse it at start)" $keys) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Checks the tokens Secret's value as the functions read it when they start
(auth's tokens file): "TOKEN TENANT [submit,read,sign]" a line, a token of
16 characters or more, each once, a tenant of lower-case letters, digits,
'-' and '_' (63 at most); '#' starts a comment. The chart's placeholder
(REPLACE-ME) renders, with the warning of NOTES.txt.
*/}}
{{- define "pricefn.checkTokens" -}}
{{- if not (contains "REPLACE-ME" .) }}
{{- $seen := dict }}
{{- range $n, $line := splitList "\n" . }}
{{- $f := regexSplit "[\\s,]+" (regexReplaceAll "#.*" $line "" | replace "," " " | trim) -1 | compact }}
{{- if $f }}
{{- $where := printf "secrets.tokens.value line %d" (add1 $n) }}
{{- if lt (len $f) 2 }}{{ fail (printf "%s: want TOKEN TENANT [SCOPES]" $where) }}{{ end }}
{{- $token := index $f 0 }}
{{- $tenant := index $f 1 }}
{{- if lt (len $token) 16 }}{{ fail (printf "%s: token shorter than 16 characters, which the functions refuse at start" $where) }}{{ end }}
{{- if or (gt (len $tenant) 63) (not (regexMatch "^[a-z0-9][a-z0-9_-]*$" $tenant)) }}{{ fail (printf "%s: tenant %q: want lower-case letters, digits, '-' or '_'" $where (trunc 40 $tenant)) }}{{ end }}
{{- with get $seen $token }}{{ fail (printf "%s: token repeated from line %d" $where .) }}{{ end }}
{{- $_ := set $seen $token (add1 $n) }}
{{- range $scope := slice $f 2 }}
{{- if not (has $scope (list "submit" "read" "sign")) }}{{ fail (printf "%s: scope %q: want submit, read or sign" $where (trunc 40 $scope)) }}{{ end }}
{{- end }}
{{- end }}
{{- end }}
{{- if not $seen }}
{{- fail "secrets.tokens.value holds no token (\"TOKEN TENANT [submit,read,sign]\" a line), which the functions refuse at start" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Env of the batch store's URL, from its Secret. */}}
{{- define "pricefn.storeEnv" -}}
- name: PRICEFN_STORE
  valueFrom:
    secretKeyRef:
      name: {{ .Values.store.secretName }}
      key: store
{{- end }}

{{/* Env of the event key file (every function). */}}
{{- define "pricefn.eventKeyEnv" -}}
- name: PRICEFN_EVENT_KEY_FILE
  value: /etc/pricefn/event-key/key
{{- end }}

{{/* Env of the tokens file (api, ingress). */}}
{{- define "pricefn.tokensEnv" -}}
- name: PRICEFN_TOKENS_FILE
  value: /etc/pricefn/tokens/tokens
{{- end }}

{{/*
A resource quantity of the forms values.schema.json takes (2Gi, 1.5G,
500m, 1000) in its base unit (bytes, cores), as a number.
*/}}
{{- define "pricefn.quantity" -}}
{{- $q := . | toString }}
{{- $num := regexFind "^[0-9]+(\\.[0-9]+)?" $q }}
{{- $unit := get (dict "" 1.0 "m" 0.001 "k" 1e3 "Ki" 1024.0 "M" 1e6 "Mi" 1048576.0 "G" 1e9 "Gi" 1073741824.0 "T" 1e12 "Ti" 1099511627776.0) (trimPrefix $num $q) }}
{{- if not (and $num $unit) }}{{ fail (printf "resource quantity %q: want a number with an optional suffix (m, k, Ki, M, Mi, G, Gi, T, Ti)" $q) }}{{ end }}
{{- mulf (float64 $num) $unit }}
{{- end }}

{{/*
Extra env of a Service (dict "s" SETTINGS), sorted by name. GOMEMLIMIT is
90% of the memory limit's whole MiB, from any quantity the schema takes
(1.5Gi, 2G and 1000M too, which it used to leave without a limit; none for
a limit under 2Mi, where it would be 0, a collector that never stops).
*/}}
{{- define "pricefn.extraEnv" -}}
{{- $mi := 0 }}
{{- with .s.resources.limits.memory }}{{ $mi = divf (include "pricefn.quantity" .) 1048576.0 | floor | int }}{{ end }}
{{- $limit := div (mul $mi 9) 10 }}
{{- if and (gt $limit 0) (not (hasKey .s.env "GOMEMLIMIT")) }}
# The Go heap's soft limit, 90% of the container's memory limit: the
# collector works harder near it instead of the kernel killing the pod.
- name: GOMEMLIMIT
  value: {{ printf "%dMiB" $limit | quote }}
{{- end }}
{{- range $k, $v := .s.env }}
{{- /* Helm reads YAML numbers as float64, which toString writes 1e+07. */}}
{{- if and (kindIs "float64" $v) (eq $v (floor $v)) }}{{ $v = printf "%.0f" $v }}{{ end }}
{{- /* YAML reads a bare GOMEMLIMIT: off as false, which the runtime would refuse. */}}
{{- if and (eq $k "GOMEMLIMIT") (kindIs "bool" $v) (not $v) }}{{ $v = "off" }}{{ end }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/*
Volume mounts and volumes of the Secrets (dict "tokens" BOOL "root" $).
Knative wants Secret mounts read-only.
*/}}
{{- define "pricefn.volumeMounts" -}}
volumeMounts:
{{- if .tokens }}
  - name: tokens
    mountPath: /etc/pricefn/tokens
    readOnly: true
{{- end }}
  - name: event-key
    mountPath: /etc/pricefn/event-key
    readOnly: true
{{- end }}

{{- define "pricefn.volumes" -}}
volumes:
{{- if .tokens }}
  - name: tokens
    secret:
      secretName: {{ .root.Values.secrets.tokens.name }}
{{- end }}
  - name: event-key
    secret:
      secretName: {{ .root.Values.secrets.eventKey.name }}
{{- end }}

{{/*
The rest of a function's container (dict "s" SETTINGS): probes, resources
and a securityContext that meets the "restricted" Pod Security Standard
(ko's default base image runs as a non-root user).
*/}}
{{- define "pricefn.containerRest" -}}
readinessProbe:
  httpGet:
    path: /readyz
  periodSeconds: 5
livenessProbe:
  httpGet:
    path: /healthz
  periodSeconds: 10
  failureThreshold: 3
resources:
  {{- toYaml .s.resources | nindent 2 }}
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
  seccompProfile:
    type: RuntimeDefault
{{- end }}
