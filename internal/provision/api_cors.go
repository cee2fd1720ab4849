package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// The OPTIONS method answering CORS preflights (cors.go has its desired
// shape). Any difference re-creates the whole method: it has no dependants
// and four calls rebuild it, while patching method and integration
// responses field by field is where API Gateway implementations differ
// most. The stage keeps serving its deployment until the new one.

// observeCORS reads the OPTIONS method, with its method and integration
// responses, when the resource listing shows one. It is read by GetMethod
// rather than from the listing: that is the call documented to return
// both response maps whole.
func (r *run) observeCORS(ctx context.Context, o *apiObs) error {
	if !o.corsListed {
		return nil
	}
	p := r.p
	out, err := p.apigw.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("OPTIONS")})
	var nf *agtypes.NotFoundException
	switch {
	case errors.As(err, &nf):
		o.cors = nil
	case err != nil:
		return opErr("get method", "OPTIONS /"+p.spec.Resource, err)
	default:
		o.cors = &agtypes.Method{HttpMethod: out.HttpMethod, AuthorizationType: out.AuthorizationType, ApiKeyRequired: out.ApiKeyRequired,
			MethodResponses: out.MethodResponses, MethodIntegration: out.MethodIntegration}
	}
	return nil
}

// planCORS plans the OPTIONS method: created when origins are allowed,
// converged when it differs, deleted when none is allowed any more.
func (r *run) planCORS(o *apiObs) Change {
	c := Change{Kind: KindCORS, Name: "OPTIONS /" + r.p.spec.Resource, Action: Unchanged}
	want, on := CORSMethod(r.p.spec)
	exists := !o.resourceMissing() && o.cors != nil
	switch {
	case !on && exists:
		c.Action, c.Note = Delete, "no browser origin is allowed"
		c.Diffs = []Diff{{Field: "allowed origins", Have: corsSummary(observedOrigins(o.cors)), Want: corsSummary(nil)}}
	case !on:
	case !exists:
		c.Action, c.Note = Create, "allows "+corsSummary(want.Origins)
	default:
		c.Diffs = corsDiffs(o.cors, want)
		if len(c.Diffs) > 0 {
			c.Action, c.Note = Update, "method re-created"
		}
	}
	return c
}

// observedOrigins are the origins an OPTIONS method allows: a static
// Access-Control-Allow-Origin, or those its mapping template names.
func observedOrigins(m *agtypes.Method) []string {
	ir, ok := integrationResponse(m)
	if !ok {
		return nil
	}
	var out []string
	if v, ok := ir.ResponseParameters[headerPrefix+"Access-Control-Allow-Origin"]; ok {
		out = append(out, strings.Trim(v, "'"))
	}
	for _, t := range ir.ResponseTemplates {
		out = append(out, templateOrigins(t)...)
	}
	return canonicalOrigins(out)
}

func integrationResponse(m *agtypes.Method) (agtypes.IntegrationResponse, bool) {
	if m == nil || m.MethodIntegration == nil {
		return agtypes.IntegrationResponse{}, false
	}
	ir, ok := m.MethodIntegration.IntegrationResponses[corsStatusCode]
	return ir, ok
}

// nonEmpty drops entries without a value: API Gateway reports a content
// type without a template as an empty (or null) one.
func nonEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func templatesString(m map[string]string) string {
	if len(m) == 0 {
		return "(none)"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+": "+m[k])
	}
	return strings.Join(parts, "; ")
}

// corsDiffs compares an existing OPTIONS method with the desired one; the
// fields are what status reports as drift.
func corsDiffs(m *agtypes.Method, want CORSPreflight) []Diff {
	var d []Diff
	add := func(field, have, want string) {
		if have != want {
			d = append(d, Diff{Field: field, Have: have, Want: want})
		}
	}
	add("authorization", methodAuthString(aws.ToString(m.AuthorizationType), aws.ToBool(m.ApiKeyRequired)),
		methodAuthString(want.AuthorizationType, want.APIKeyRequired))

	add("method responses", sortedKeys(m.MethodResponses), want.StatusCode)
	if mr, ok := m.MethodResponses[want.StatusCode]; ok && !maps.Equal(mr.ResponseParameters, want.MethodResponseParameters) {
		add("method response headers", headerList(mr.ResponseParameters), headerList(want.MethodResponseParameters))
	}

	in := m.MethodIntegration
	if in == nil || in.Type == "" {
		add("integration", "(none)", want.IntegrationType)
		return d
	}
	add("integration type", string(in.Type), want.IntegrationType)
	add("passthrough behavior", aws.ToString(in.PassthroughBehavior), want.PassthroughBehavior)
	add("request template", templatesString(nonEmpty(in.RequestTemplates)), templatesString(want.RequestTemplates))

	add("integration responses", sortedKeys(in.IntegrationResponses), want.StatusCode)
	ir, ok := in.IntegrationResponses[want.StatusCode]
	if !ok {
		return d
	}
	add("selection pattern", aws.ToString(ir.SelectionPattern), "")
	add("allowed origins", corsSummary(observedOrigins(m)), corsSummary(want.Origins))
	names := slices.Sorted(maps.Keys(ir.ResponseParameters))
	for k := range want.IntegrationResponseParameters {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if k == headerPrefix+"Access-Control-Allow-Origin" {
			continue // reported as the allowed origins
		}
		have, hok := ir.ResponseParameters[k]
		wantV, wok := want.IntegrationResponseParameters[k]
		if !hok {
			have = "unset"
		}
		if !wok {
			wantV = "unset"
		}
		add(strings.TrimPrefix(k, headerPrefix), have, wantV)
	}
	haveT, wantT := nonEmpty(ir.ResponseTemplates), want.IntegrationResponseTemplates
	if !maps.Equal(haveT, wantT) && slices.Equal(observedOrigins(m), want.Origins) {
		// Same origins, other text: someone edited the template.
		add("preflight template", "changed outside ddbops", "ddbops' template")
	}
	return d
}

// headerList renders declared response headers ("!" marks a required one).
func headerList(params map[string]bool) string {
	if len(params) == 0 {
		return "(none)"
	}
	names := make([]string, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		n := strings.TrimPrefix(k, headerPrefix)
		if params[k] {
			n += "!"
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// applyCORS creates, re-creates or deletes the OPTIONS method as planned
// and records the allowed origins in the state file for status.
func (r *run) applyCORS(ctx context.Context, o *apiObs, c Change) error {
	p := r.p
	want, on := CORSMethod(p.spec)
	record := func() error { return p.updateState(func(s *State) { s.CORSOrigins = want.Origins }) }
	switch c.Action {
	case Unchanged:
		if on || o.cors != nil {
			r.unchanged(c)
		}
		return record()
	case Delete:
		return r.stepAPIDefinition(c, func() error {
			if err := r.deleteCORSMethod(ctx, o); err != nil {
				return err
			}
			return record()
		})
	}
	return r.stepAPIDefinition(c, func() error {
		if c.Action == Update {
			if err := r.deleteCORSMethod(ctx, o); err != nil {
				return err
			}
		}
		if err := r.putCORSMethod(ctx, o, want); err != nil {
			return err
		}
		return record()
	})
}

func (r *run) deleteCORSMethod(ctx context.Context, o *apiObs) error {
	_, err := r.p.apigw.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("OPTIONS")})
	var nf *agtypes.NotFoundException
	if err != nil && !errors.As(err, &nf) {
		return opErr("delete method", "OPTIONS /"+r.p.spec.Resource, err)
	}
	o.cors = nil
	return nil
}

// putCORSMethod builds the OPTIONS method in the order API Gateway needs:
// the method, its response (which declares the headers), the MOCK
// integration, and the integration response mapping those headers.
func (r *run) putCORSMethod(ctx context.Context, o *apiObs, want CORSPreflight) error {
	p := r.p
	name := want.HTTPMethod + " /" + p.spec.Resource
	api, res, method := aws.String(o.id), aws.String(o.resourceID), aws.String(want.HTTPMethod)
	var conflict *agtypes.ConflictException

	_, err := p.apigw.PutMethod(ctx, &apigateway.PutMethodInput{
		RestApiId: api, ResourceId: res, HttpMethod: method,
		AuthorizationType: aws.String(want.AuthorizationType), ApiKeyRequired: want.APIKeyRequired,
	})
	if errors.As(err, &conflict) {
		// Put by this call when the SDK retried it after a lost answer,
		// or by someone else meanwhile: accept it if it is open.
		err = r.adoptCORS(ctx, o, err, func(m *apigateway.GetMethodOutput) bool {
			return aws.ToString(m.AuthorizationType) == want.AuthorizationType && aws.ToBool(m.ApiKeyRequired) == want.APIKeyRequired
		})
	}
	if err != nil {
		return opErr("put method", name, err)
	}

	_, err = p.apigw.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{
		RestApiId: api, ResourceId: res, HttpMethod: method,
		StatusCode: aws.String(want.StatusCode), ResponseParameters: want.MethodResponseParameters,
	})
	if errors.As(err, &conflict) {
		err = r.adoptCORS(ctx, o, err, func(m *apigateway.GetMethodOutput) bool {
			mr, ok := m.MethodResponses[want.StatusCode]
			return ok && maps.Equal(mr.ResponseParameters, want.MethodResponseParameters)
		})
	}
	if err != nil {
		return opErr("put method response "+want.StatusCode+" of", name, err)
	}

	// Integration and integration response are puts that replace.
	_, err = p.apigw.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: api, ResourceId: res, HttpMethod: method,
		Type: agtypes.IntegrationType(want.IntegrationType), RequestTemplates: want.RequestTemplates,
		PassthroughBehavior: aws.String(want.PassthroughBehavior),
	})
	if err != nil {
		return opErr("put integration", name, err)
	}
	in := &apigateway.PutIntegrationResponseInput{
		RestApiId: api, ResourceId: res, HttpMethod: method,
		StatusCode: aws.String(want.StatusCode), ResponseParameters: want.IntegrationResponseParameters,
	}
	if len(want.IntegrationResponseTemplates) > 0 {
		in.ResponseTemplates = want.IntegrationResponseTemplates
	}
	if _, err := p.apigw.PutIntegrationResponse(ctx, in); err != nil {
		return opErr("put integration response "+want.StatusCode+" of", name, err)
	}
	return nil
}

// adoptCORS reads the OPTIONS method back after a put answered conflict
// and returns nil when ok accepts what is there, else the conflict.
func (r *run) adoptCORS(ctx context.Context, o *apiObs, conflict error, ok func(*apigateway.GetMethodOutput) bool) error {
	m, err := r.p.apigw.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("OPTIONS")})
	if err != nil {
		return readBackFailed(conflict, err)
	}
	if !ok(m) {
		return fmt.Errorf("%w (it exists with other settings: re-run setup to converge it)", conflict)
	}
	return nil
}
