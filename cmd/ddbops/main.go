// Command ddbops stands up, drives, measures and tears down the
// API Gateway → Lambda → DynamoDB microservice of the tutorial, on AWS or
// on a laptop (ddbops local).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Execute(ctx, cmdutil.System(), os.Args[1:])
	stop()
	os.Exit(code)
}
