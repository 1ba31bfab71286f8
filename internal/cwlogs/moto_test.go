package cwlogs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/graviton-cd/graviton-cd/internal/cwlogs"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// TestFetchAgainstMoto reads a log group moto holds through the real
// client: awslogs-shaped streams of two tasks, one task's lines by stream
// prefix and by task ID, a filter pattern, and a group that does not exist.
func TestFetchAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	client := cloudwatchlogs.NewFromConfig(cfg)
	ctx := context.Background()
	group := "/ecs/" + localstack.UniqueName(t, "gcd-logs")
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatalf("create log group: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteLogGroup(context.Background(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)})
	})
	now := time.Now().Truncate(time.Millisecond)
	put := func(task string, lines ...string) {
		stream := "app/app/" + task
		if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
			t.Fatalf("create log stream: %v", err)
		}
		var evs []types.InputLogEvent
		for i, l := range lines {
			evs = append(evs, types.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(now.Add(time.Duration(i-len(lines)) * time.Second).UnixMilli())})
		}
		if _, err := client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
			t.Fatalf("put log events: %v", err)
		}
	}
	put("aaaa1111", "starting", "ERROR db refused", "retrying")
	put("bbbb2222", "ERROR other task")
	r := &cwlogs.Reader{API: client, Clock: ecsdeploy.WallClock{}}
	since := now.Add(-time.Minute)
	for _, c := range []struct {
		name string
		q    cwlogs.Query
		want string
	}{
		{"all", cwlogs.Query{}, "[starting ERROR db refused retrying ERROR other task]"},
		{"stream prefix", cwlogs.Query{StreamPrefix: cwlogs.TaskStreamPrefix("app", "app", "aaaa1111"), TaskID: "aaaa1111"}, "[starting ERROR db refused retrying]"},
		{"task only", cwlogs.Query{TaskID: "bbbb2222"}, "[ERROR other task]"},
		{"filter", cwlogs.Query{Filter: "ERROR"}, "[ERROR db refused ERROR other task]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.q.LogGroup, c.q.Since = group, since
			evs, err := r.Fetch(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(messages(evs)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
	_, err := r.Fetch(ctx, cwlogs.Query{LogGroup: group + "-nope", Since: since})
	var nf *cwlogs.LogGroupNotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("missing group: err = %v, want LogGroupNotFoundError", err)
	}
}
