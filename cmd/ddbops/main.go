// Command ddbops stands up, drives, measures and tears down the
// API Gateway → Lambda → DynamoDB microservice of the tutorial, on AWS or
// on a laptop (ddbops local).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ios := SystemIO()
	code := Execute(ctx, ios, os.Args[1:])
	stop()
	os.Exit(code)
}
