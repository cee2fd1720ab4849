package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// wantMethod is the POST method's authorization for an auth mode.
func wantMethod(auth string) (authType string, apiKeyRequired bool) {
	switch auth {
	case wire.AuthIAM:
		return "AWS_IAM", false
	case wire.AuthAPIKey:
		return "NONE", true
	}
	return "NONE", false
}

// authOf names the auth mode a method implements ("" = none of ours).
func authOf(m *agtypes.Method) string {
	if m == nil {
		return ""
	}
	switch {
	case aws.ToString(m.AuthorizationType) == "AWS_IAM" && !aws.ToBool(m.ApiKeyRequired):
		return wire.AuthIAM
	case aws.ToString(m.AuthorizationType) == "NONE" && aws.ToBool(m.ApiKeyRequired):
		return wire.AuthAPIKey
	case aws.ToString(m.AuthorizationType) == "NONE":
		return wire.AuthNone
	}
	return strings.ToLower(aws.ToString(m.AuthorizationType))
}

func methodAuthString(authType string, apiKey bool) string {
	if apiKey {
		return authType + " + API key"
	}
	return authType
}

// observeIntegration reads the POST method's integration when the method
// exists and its listing did not embed it.
func (r *run) observeIntegration(ctx context.Context, o *apiObs) error {
	if o.method == nil {
		return nil
	}
	o.integ = o.method.MethodIntegration
	if o.integ != nil {
		return nil
	}
	// Not every endpoint embeds the integration: ask for it.
	p := r.p
	out, err := p.apigw.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST")})
	var nf *agtypes.NotFoundException
	switch {
	case errors.As(err, &nf):
	case err != nil:
		return opErr("get integration of", "POST /"+p.spec.Resource, err)
	case out.Type != "":
		o.integ = &agtypes.Integration{Type: out.Type, HttpMethod: out.HttpMethod, Uri: out.Uri}
	}
	return nil
}

func (r *run) planMethod(o *apiObs) Change {
	c := Change{Kind: KindMethod, Name: "POST /" + r.p.spec.Resource, Action: Unchanged}
	wantAuth, wantKey := wantMethod(r.p.spec.Auth)
	switch {
	case o.methodMissing():
		c.Action = Create
	case aws.ToString(o.method.AuthorizationType) != wantAuth || aws.ToBool(o.method.ApiKeyRequired) != wantKey:
		c.Action = Update
		c.Diffs = []Diff{{Field: "authorization", Have: methodAuthString(aws.ToString(o.method.AuthorizationType), aws.ToBool(o.method.ApiKeyRequired)),
			Want: methodAuthString(wantAuth, wantKey)}}
		c.Note = "method re-created (its integration with it)"
	}
	return c
}

// planIntegration plans the AWS_PROXY integration; method is the method's
// planned change (re-creating the method drops its integration).
func (r *run) planIntegration(o *apiObs, method Change) Change {
	c := Change{Kind: KindIntegration, Name: "POST /" + r.p.spec.Resource, Action: Unchanged}
	switch {
	case o.methodMissing() || o.integ == nil || o.integ.Type == "":
		c.Action = Create
	case method.Action == Update:
		c.Action = Create
		c.Note = "re-created with the method"
	default:
		add := func(field, have, want string) {
			if have != want {
				c.Diffs = append(c.Diffs, Diff{Field: field, Have: have, Want: want})
			}
		}
		add("type", string(o.integ.Type), string(agtypes.IntegrationTypeAwsProxy))
		add("integration method", aws.ToString(o.integ.HttpMethod), "POST")
		add("uri", aws.ToString(o.integ.Uri), r.arn.integrationURI())
		if len(c.Diffs) > 0 {
			c.Action = Update
		}
	}
	return c
}

func (r *run) applyMethod(ctx context.Context, o *apiObs, c Change) error {
	p := r.p
	path := "/" + p.spec.Resource
	if c.Action == Unchanged {
		r.unchanged(c)
		return nil
	}
	return r.stepAPIDefinition(c, func() error {
		if c.Action == Update {
			// Re-creating resets every method setting, not only the
			// patched ones; the live stage keeps serving its deployment
			// until the new one below.
			_, err := p.apigw.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST")})
			var nf *agtypes.NotFoundException
			if err != nil && !errors.As(err, &nf) {
				return opErr("delete method", "POST "+path, err)
			}
		}
		authType, apiKey := wantMethod(p.spec.Auth)
		_, err := p.apigw.PutMethod(ctx, &apigateway.PutMethodInput{
			RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST"),
			AuthorizationType: aws.String(authType), ApiKeyRequired: apiKey,
		})
		var conflict *agtypes.ConflictException
		if errors.As(err, &conflict) {
			// The method exists: put by this call when the SDK retried
			// it after a lost answer, or by someone else meanwhile.
			err = r.adoptMethod(ctx, o, err)
		}
		if err != nil {
			return opErr("put method", "POST "+path, err)
		}
		return p.updateState(func(s *State) { s.Auth = p.spec.Auth })
	})
}

// adoptMethod reads back the POST method PutMethod found existing (answer
// conflict) and accepts it when its authorization is the desired one.
func (r *run) adoptMethod(ctx context.Context, o *apiObs, conflict error) error {
	p := r.p
	m, err := p.apigw.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST")})
	if err != nil {
		return readBackFailed(conflict, err)
	}
	wantAuth, wantKey := wantMethod(p.spec.Auth)
	haveAuth, haveKey := aws.ToString(m.AuthorizationType), aws.ToBool(m.ApiKeyRequired)
	if haveAuth != wantAuth || haveKey != wantKey {
		return fmt.Errorf("%w (the method exists with authorization %s, want %s: re-run setup to converge it)",
			conflict, methodAuthString(haveAuth, haveKey), methodAuthString(wantAuth, wantKey))
	}
	o.method = &agtypes.Method{HttpMethod: m.HttpMethod, AuthorizationType: m.AuthorizationType, ApiKeyRequired: m.ApiKeyRequired, MethodIntegration: m.MethodIntegration}
	return nil
}

func (r *run) applyIntegration(ctx context.Context, o *apiObs, c Change) error {
	p := r.p
	if c.Action == Unchanged {
		r.unchanged(c)
		return nil
	}
	return r.stepAPIDefinition(c, func() error {
		_, err := p.apigw.PutIntegration(ctx, &apigateway.PutIntegrationInput{
			RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST"),
			Type: agtypes.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String(r.arn.integrationURI()),
		})
		return opErr("put integration", "POST /"+p.spec.Resource, err)
	})
}
