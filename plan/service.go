package plan

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"
)

// docSeparator splits a YAML stream into documents.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// ServiceSettings reads the Knative Service called name (any name when the
// YAML holds one Service) from data, a YAML stream such as the project's
// knative/services.yaml, and returns its revision template's settings: the
// annotations, containerConcurrency and the first container's CPU (its
// limit, else its request; 0 when it has neither).
func ServiceSettings(data []byte, name string) (Settings, error) {
	var found []*servingv1.Service
	var names []string
	for i, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			return Settings{}, fmt.Errorf("plan: service document %d: %w", i+1, err)
		}
		if head.Kind != "Service" || !strings.HasPrefix(head.APIVersion, "serving.knative.dev/") {
			continue
		}
		svc := &servingv1.Service{}
		if err := yaml.Unmarshal([]byte(doc), svc); err != nil {
			return Settings{}, fmt.Errorf("plan: service document %d: %w", i+1, err)
		}
		names = append(names, svc.Name)
		if name == "" || svc.Name == name {
			found = append(found, svc)
		}
	}
	switch {
	case len(names) == 0:
		return Settings{}, fmt.Errorf("plan: no Knative Service (serving.knative.dev) in the file")
	case len(found) == 0:
		return Settings{}, fmt.Errorf("plan: no Service %q in the file (it has %s)", name, strings.Join(names, ", "))
	case len(found) > 1:
		return Settings{}, fmt.Errorf("plan: the file has several Services (%s): name one", strings.Join(names, ", "))
	}
	tmpl := found[0].Spec.Template
	s := Settings{Annotations: map[string]string{}}
	for k, v := range tmpl.Annotations {
		s.Annotations[k] = v
	}
	if cc := tmpl.Spec.ContainerConcurrency; cc != nil {
		s.ContainerConcurrency = *cc
	}
	if cs := tmpl.Spec.Containers; len(cs) > 0 {
		res := cs[0].Resources
		for _, l := range []corev1.ResourceList{res.Limits, res.Requests} {
			if q, ok := l[corev1.ResourceCPU]; ok {
				s.Cores = q.AsApproximateFloat64()
				break
			}
		}
	}
	return s, nil
}
