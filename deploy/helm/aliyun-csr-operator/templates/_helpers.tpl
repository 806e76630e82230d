{{- define "aliyun-csr-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aliyun-csr-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aliyun-csr-operator.labels" -}}
app.kubernetes.io/name: {{ include "aliyun-csr-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "aliyun-csr-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aliyun-csr-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aliyun-csr-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aliyun-csr-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aliyun-csr-operator.leaderElection" -}}
{{- $le := .Values.leaderElection.enabled -}}
{{- if eq (toString $le) "auto" -}}
{{- gt (int .Values.replicaCount) 1 -}}
{{- else -}}
{{- $le -}}
{{- end -}}
{{- end -}}

{{/*
The rules the operator needs where it watches: AliyunCsrs and AliyunCertificates (status; no
finalizers on AliyunCertificates), Secrets (read, and create and patch for the kubernetes.io/tls
Secrets of AliyunCertificates; never update or delete), Events, and DNSEndpoints only with
externalDns.enabled.
*/}}
{{- define "aliyun-csr-operator.rules" -}}
- apiGroups: ["cas.aliyuncsr.dev"]
  resources: ["aliyuncsrs"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["cas.aliyuncsr.dev"]
  resources: ["aliyuncsrs/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["cas.aliyuncsr.dev"]
  resources: ["aliyuncsrs/finalizers"]
  verbs: ["update"]
- apiGroups: ["cas.aliyuncsr.dev"]
  resources: ["aliyuncertificates"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["cas.aliyuncsr.dev"]
  resources: ["aliyuncertificates/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.externalDns.enabled }}
- apiGroups: ["externaldns.k8s.io"]
  resources: ["dnsendpoints"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
{{- end }}
{{- end -}}


{{/*
The cluster-wide rules the operator always needs, whatever watchNamespaces says: the
cluster-scoped AliyunCasAccounts (status, finalizer; never create or delete), and namespaces (read
only) to evaluate the accounts' label selectors.
*/}}
{{- define "aliyun-csr-operator.accountRules" -}}
- apiGroups: ["cas.aliyuncsr.dev"]
  resources: ["aliyuncasaccounts"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["cas.aliyuncsr.dev"]
  resources: ["aliyuncasaccounts/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["cas.aliyuncsr.dev"]
  resources: ["aliyuncasaccounts/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list", "watch"]
{{- end -}}

{{/* Whether an account rendered by this chart signs in with RRSA. */}}
{{- define "aliyun-csr-operator.accountsUseRrsa" -}}
{{- $rrsa := false -}}
{{- range .Values.accounts -}}
{{- if and (kindIs "map" .credentials) (hasKey .credentials "rrsa") -}}
{{- $rrsa = true -}}
{{- end -}}
{{- end -}}
{{- $rrsa -}}
{{- end -}}
