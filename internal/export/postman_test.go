package export

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/wire"
)

type postmanDoc struct {
	Info struct {
		Name, Description, Schema string
	}
	Auth struct {
		Type   string
		AWSV4  []postmanKV `json:"awsv4"`
		APIKey []postmanKV `json:"apikey"`
	}
	Item []struct {
		Name  string
		Event []struct {
			Listen string
			Script struct {
				Type string
				Exec []string
			}
		}
		Request struct {
			Method string
			Header []postmanKV
			Body   struct {
				Mode, Raw string
			}
			URL struct {
				Raw  string
				Host []string
			}
		}
	}
	Variable []postmanKV
}

type postmanKV struct{ Key, Value string }

func kvMap(l []postmanKV) map[string]string {
	m := map[string]string{}
	for _, kv := range l {
		m[kv.Key] = kv.Value
	}
	return m
}

func renderPostman(t *testing.T, c Collection) ([]byte, postmanDoc) {
	t.Helper()
	d, err := Postman(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc postmanDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return b, doc
}

// TestExportPostmanCollection checks the collection of every auth mode:
// v2.1, the variables (secrets empty), the auth, the requests in order, each
// a tutorial-format body the request schema and the decoder accept (or, for
// the 404 and 409 cases, accept structurally), with tests on status and
// body.
func TestExportPostmanCollection(t *testing.T) {
	t.Parallel()
	req := compileSchema(t, jsonSchemaOf(t, mustOpenAPI(t, API{Spec: defaultSpec(wire.AuthIAM)})), "Request")
	for _, auth := range authModes {
		b, doc := renderPostman(t, Collection{Name: "n", InvokeURL: "https://x.example/prod/DynamoDBManager", Auth: auth, Region: "eu-west-1", Table: goldenTable})
		if doc.Info.Schema != PostmanSchema || doc.Info.Name != "n" || !Generated(FormatPostman, b) {
			t.Errorf("%s: info %+v", auth, doc.Info)
		}
		wantVars := map[string]string{
			VarBaseURL: "https://x.example/prod/DynamoDBManager", VarAPIKey: "", VarAccessKey: "", VarSecretKey: "",
			VarSessionToken: "", VarRegion: "eu-west-1", VarItemID: "",
		}
		if got := kvMap(doc.Variable); !reflect.DeepEqual(got, wantVars) {
			t.Errorf("%s: variables %v, want %v", auth, got, wantVars)
		}
		switch auth {
		case wire.AuthIAM:
			want := map[string]string{"accessKey": "{{accessKey}}", "secretKey": "{{secretKey}}", "sessionToken": "{{sessionToken}}", "region": "{{region}}", "service": "execute-api"}
			if doc.Auth.Type != "awsv4" || !reflect.DeepEqual(kvMap(doc.Auth.AWSV4), want) {
				t.Errorf("iam: auth %+v", doc.Auth)
			}
		case wire.AuthAPIKey:
			want := map[string]string{"key": "x-api-key", "value": "{{apiKey}}", "in": "header"}
			if doc.Auth.Type != "apikey" || !reflect.DeepEqual(kvMap(doc.Auth.APIKey), want) {
				t.Errorf("apikey: auth %+v", doc.Auth)
			}
		case wire.AuthNone:
			if doc.Auth.Type != "noauth" {
				t.Errorf("none: auth %+v", doc.Auth)
			}
		}
		var names []string
		for _, it := range doc.Item {
			names = append(names, it.Name)
			r := it.Request
			if r.Method != "POST" || r.URL.Raw != "{{baseUrl}}" || r.Body.Mode != "raw" || kvMap(r.Header)["Content-Type"] != "application/json" {
				t.Errorf("%s/%s: request %+v", auth, it.Name, r)
			}
			body := []byte(strings.ReplaceAll(r.Body.Raw, "{{itemId}}", "ddbops-1-2"))
			if ok, err := validates(t, req, body); !ok {
				t.Errorf("%s/%s: body does not validate: %v\n%s", auth, it.Name, err, short(body))
			}
			if _, err := handler.Decode(body, goldenTable); err != nil {
				t.Errorf("%s/%s: decoder: %v", auth, it.Name, err)
			}
			var tests string
			for _, e := range it.Event {
				if e.Listen == "test" {
					tests = strings.Join(e.Script.Exec, "\n")
				}
			}
			status := "200"
			switch it.Name {
			case "read missing (404)":
				status = "404"
			case "create again (409)":
				status = "409"
			}
			if !strings.Contains(tests, "pm.response.to.have.status("+status+")") || strings.Count(tests, "pm.test(") < 2 {
				t.Errorf("%s/%s: tests do not check status %s and the body:\n%s", auth, it.Name, status, tests)
			}
		}
		wantNames := []string{"create", "read", "update", "list", "echo", "ping", "read missing (404)", "create again (409)", "delete"}
		if !reflect.DeepEqual(names, wantNames) {
			t.Errorf("%s: requests %v, want %v", auth, names, wantNames)
		}
		// The first request picks the run's id, so that runs never collide.
		if pre := doc.Item[0].Event[0]; pre.Listen != "prerequest" || !strings.Contains(strings.Join(pre.Script.Exec, "\n"), "Date.now()") {
			t.Errorf("%s: create does not pick a new id: %+v", auth, pre)
		}
	}
}

// TestExportPostmanRejects: what cannot become a collection.
func TestExportPostmanRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []Collection{
		{InvokeURL: "http://x/", Auth: "basic", Table: "t"},
		{Auth: wire.AuthNone, Table: "t"},
		{InvokeURL: "http://x/", Auth: wire.AuthNone},
	} {
		if _, err := Postman(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
