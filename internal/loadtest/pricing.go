package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ddbops/ddbops/configs"
	"github.com/ddbops/ddbops/internal/wire"
)

// Prices is the price table of configs/prices.yaml: public on-demand list
// prices of one region, in Currency, first tier, no free tier.
type Prices struct {
	AsOf     string   `yaml:"as_of" json:"as_of"`
	Region   string   `yaml:"region" json:"region"`
	Currency string   `yaml:"currency" json:"currency"`
	Sources  []string `yaml:"sources" json:"sources"`
	// Source says where the table came from: "embedded" or the file path.
	Source string `yaml:"-" json:"source"`

	Lambda struct {
		// GBSecond is the duration price per GB-second, by architecture
		// (arm64, x86_64).
		GBSecond           map[string]float64 `yaml:"gb_second" json:"gb_second"`
		RequestsPerMillion float64            `yaml:"requests_per_million" json:"requests_per_million"`
	} `yaml:"lambda" json:"lambda"`
	APIGateway struct {
		RESTRequestsPerMillion float64 `yaml:"rest_requests_per_million" json:"rest_requests_per_million"`
	} `yaml:"api_gateway" json:"api_gateway"`
	DynamoDB struct {
		WriteRequestUnitsPerMillion float64 `yaml:"write_request_units_per_million" json:"write_request_units_per_million"`
		ReadRequestUnitsPerMillion  float64 `yaml:"read_request_units_per_million" json:"read_request_units_per_million"`
	} `yaml:"dynamodb" json:"dynamodb"`
}

// LoadPrices returns the embedded price table, overlaid with the file at
// path when path is not empty (keys the file leaves out keep their
// embedded values).
func LoadPrices(path string) (*Prices, error) {
	var p Prices
	b, err := configs.FS.ReadFile("prices.yaml")
	if err != nil {
		return nil, fmt.Errorf("read embedded prices: %w", err)
	}
	if err := decodePrices(b, &p); err != nil {
		return nil, fmt.Errorf("read embedded prices: %w", err)
	}
	p.Source = "embedded configs/prices.yaml"
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read prices %s: %w", path, err)
		}
		// Sources describe one table; an override brings its own.
		p.Sources = nil
		if err := decodePrices(b, &p); err != nil {
			return nil, fmt.Errorf("read prices %s: %w", path, err)
		}
		p.Source = path
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("prices %s: %w", p.Source, err)
	}
	return &p, nil
}

func decodePrices(b []byte, p *Prices) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func (p *Prices) validate() error {
	if _, err := time.Parse(time.DateOnly, p.AsOf); err != nil {
		return fmt.Errorf("as_of %q is not a date (YYYY-MM-DD)", p.AsOf)
	}
	if len(p.Lambda.GBSecond) == 0 {
		return errors.New("lambda.gb_second has no architecture")
	}
	for arch, v := range p.Lambda.GBSecond {
		if v < 0 {
			return fmt.Errorf("lambda.gb_second.%s is negative", arch)
		}
	}
	for name, v := range map[string]float64{
		"lambda.requests_per_million":              p.Lambda.RequestsPerMillion,
		"api_gateway.rest_requests_per_million":    p.APIGateway.RESTRequestsPerMillion,
		"dynamodb.write_request_units_per_million": p.DynamoDB.WriteRequestUnitsPerMillion,
		"dynamodb.read_request_units_per_million":  p.DynamoDB.ReadRequestUnitsPerMillion,
	} {
		if v < 0 {
			return fmt.Errorf("%s is negative", name)
		}
	}
	return nil
}

// RequestUnits is the DynamoDB on-demand capacity one request consumes.
type RequestUnits struct {
	Read  float64 `json:"read"`
	Write float64 `json:"write"`
}

// OpRequestUnits is the capacity one bench request of op consumes. The
// bench items are well under 1 KB, so: an eventually consistent GetItem
// (read) is half a read unit; a Scan page (list) reads under 4 KB, half a
// read unit; PutItem (create) and UpdateItem (update) are one write unit;
// echo and ping never reach DynamoDB.
func OpRequestUnits(op string) RequestUnits {
	switch op {
	case wire.OpRead, wire.OpList:
		return RequestUnits{Read: 0.5}
	case wire.OpCreate, wire.OpUpdate:
		return RequestUnits{Write: 1}
	}
	return RequestUnits{}
}

// Cost is a price per million requests, broken down by what is billed.
type Cost struct {
	LambdaCompute  float64 `json:"lambda_compute"`
	LambdaRequests float64 `json:"lambda_requests"`
	APIGateway     float64 `json:"api_gateway"`
	DynamoDB       float64 `json:"dynamodb"`
	Total          float64 `json:"total"`
}

// PerMillion is the cost of one million requests of op to a function of
// memoryMB on arch whose mean billed duration is meanBilledMS:
// GB-s (memory/1024 × billed seconds) × the architecture's price, plus the
// Lambda request price, plus one API Gateway REST call, plus the request's
// DynamoDB on-demand units.
func (p *Prices) PerMillion(arch string, memoryMB int, meanBilledMS float64, op string) (Cost, error) {
	gbs, ok := p.Lambda.GBSecond[arch]
	if !ok {
		return Cost{}, fmt.Errorf("prices %s: no lambda.gb_second for architecture %q", p.Source, arch)
	}
	u := OpRequestUnits(op)
	c := Cost{
		LambdaCompute:  1e6 * float64(memoryMB) / 1024 * meanBilledMS / 1000 * gbs,
		LambdaRequests: p.Lambda.RequestsPerMillion,
		APIGateway:     p.APIGateway.RESTRequestsPerMillion,
		DynamoDB: u.Read*p.DynamoDB.ReadRequestUnitsPerMillion +
			u.Write*p.DynamoDB.WriteRequestUnitsPerMillion,
	}
	c.Total = c.LambdaCompute + c.LambdaRequests + c.APIGateway + c.DynamoDB
	return c, nil
}
