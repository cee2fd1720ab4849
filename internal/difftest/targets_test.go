package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/local/engine"
	"github.com/ddbops/ddbops/internal/testenv"
)

const tableName = "lambda-apigateway"

// Targets, in the order answers are printed.
const (
	targetEngine   = "engine"   // the local engine over an in-memory store
	targetMoto     = "moto"     // the SDK client, moto_server
	targetDynalite = "dynalite" // the SDK client, dynalite
)

var targetNames = []string{targetEngine, targetMoto, targetDynalite}

// startTarget returns the DynamoDB the handler runs over for target, with
// the tutorial's table created.
func startTarget(t *testing.T, name string) handler.DynamoDB {
	t.Helper()
	switch name {
	case targetEngine:
		return engine.New(newMemStore(), tableName)
	case targetMoto:
		return sdkTable(t, testenv.StartMoto(t).URL)
	}
	return sdkTable(t, testenv.StartDynalite(t).URL)
}

// sdkTable is the SDK client for an emulator at endpoint, with the table
// created and active.
func sdkTable(t *testing.T, endpoint string) *dynamodb.Client {
	t.Helper()
	// Emulators do not send DynamoDB's X-Amz-Crc32 response header.
	c := dynamodb.NewFromConfig(testenv.StaticConfig(t, endpoint), func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
	})
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(tableName),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(engine.KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(engine.KeyAttribute), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table at %s: %v", endpoint, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 20 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tableName)}, 30*time.Second); err != nil {
		t.Fatalf("wait for the table at %s: %v", endpoint, err)
	}
	return c
}

// reply is one normalized answer: the status and the body with what may
// differ between correct implementations taken out.
type reply struct {
	Status int
	Body   string
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// requestID is the request id every request is sent with.
const requestID = "RID"

// rejected is the handler's prefix of a DynamoDB validation message; the
// message after it is each implementation's own wording.
const rejected = ": DynamoDB rejected the request: "

// normalize makes an answer comparable across implementations: object
// keys sorted, the wording of DynamoDB's validation messages dropped (the
// handler's own prefix kept), and a list's items sorted by id (a Scan's
// order is each implementation's own). mode page keeps only what a page
// of a Scan must agree on whatever its order: the counts of an unfiltered
// page and whether it has a LastEvaluatedKey.
func normalize(t *testing.T, status int, body []byte, m mode) reply {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return reply{status, "<not JSON> " + string(body)}
	}
	if obj, ok := v.(map[string]any); ok {
		if e, ok := obj["error"].(map[string]any); ok {
			if msg, ok := e["message"].(string); ok {
				if i := strings.Index(msg, rejected); i >= 0 {
					e["message"] = msg[:i+len(rejected)] + "<DynamoDB's message>"
				}
			}
		}
		if items, ok := obj["Items"].([]any); ok {
			sort.SliceStable(items, func(i, j int) bool { return itemID(items[i]) < itemID(items[j]) })
		}
		if m == modeItems {
			delete(obj, "ScannedCount")
		}
		if m == modePage {
			_, lek := obj["LastEvaluatedKey"]
			obj = map[string]any{"ScannedCount": obj["ScannedCount"], "Count": obj["Count"], "LastEvaluatedKey": lek}
		}
		v = obj
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	return reply{status, strings.TrimSpace(b.String())}
}

func itemID(v any) string {
	if m, ok := v.(map[string]any); ok {
		if id, ok := m[engine.KeyAttribute].(string); ok {
			return id
		}
	}
	return ""
}

// run sends every step to h and returns the normalized answers.
func run(t *testing.T, h *handler.Handler, seq []step) []reply {
	t.Helper()
	out := make([]reply, len(seq))
	for i, st := range seq {
		status, body := h.Do(context.Background(), []byte(st.body), requestID)
		out[i] = normalize(t, status, body, st.mode)
		if st.mode == modeStatus {
			out[i].Body = ""
		}
	}
	return out
}

// exceptionFor returns the exception covering step for target, if any.
func exceptionFor(target, step string) (exception, bool) {
	for _, ex := range exceptions {
		if ex.target == target && slices.Contains(ex.steps, step) {
			return ex, true
		}
	}
	return exception{}, false
}
