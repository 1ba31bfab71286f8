package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestUserMessageOfSDKErrors: what the real SDK client returns for a refused
// connection, an AccessDenied and an endpoint that is not AWS reads in the
// user's terms, and the permission hint stays only for AccessDenied.
func TestUserMessageOfSDKErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"User is not authorized to perform: ecs:DescribeServices"}`)
	}))
	defer denied.Close()
	teapot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "I'm a teapot", http.StatusTeapot)
	}))
	defer teapot.Close()

	cases := []struct {
		name, endpoint, want string
	}{
		{"connection refused", down, "describe service web: ECS DescribeServices: no answer from " + l.Addr().String() + ": connect: connection refused (check the network and AWS_ENDPOINT_URL)"},
		{"access denied", denied.URL, "describe service web: ECS DescribeServices: AccessDeniedException: User is not authorized to perform: ecs:DescribeServices (the role needs ecs:DescribeServices)"},
		{"not AWS", teapot.URL, "describe service web: ECS DescribeServices: the endpoint answered HTTP 418, not as AWS does (check AWS_ENDPOINT_URL)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ecs.New(ecs.Options{
				Region: "us-east-1", BaseEndpoint: aws.String(tc.endpoint), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("AKIA", "secret", ""),
			})
			_, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{"web"}})
			if err == nil {
				t.Fatal("no error")
			}
			wrapped := fmt.Errorf("describe service web: %w (the role needs ecs:DescribeServices)", err)
			if got := userMessage(wrapped); got != tc.want {
				t.Errorf("message\n  %s\nwant\n  %s", got, tc.want)
			}
			// When the caller's words already say where to look, no second hint.
			own := fmt.Errorf("describe service web: %w (no answer after 6 tries: check AWS_ENDPOINT_URL)", err)
			if got := userMessage(own); strings.Count(got, "AWS_ENDPOINT_URL") != 1 {
				t.Errorf("two hints: %s", got)
			}
			if got := userMessage(errors.New("plain")); got != "plain" {
				t.Errorf("a plain error changed: %s", got)
			}
		})
	}
}
