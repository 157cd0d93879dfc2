package stats

import (
	"context"
	"strconv"
	"testing"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/metrics"
)

// BenchmarkSample is the cost of one second's sample on a node with 1 and
// with 10,000 apps (BenchmarkAppStoreScale's count), every app active: what
// the console's graphs cost a node each second.
func BenchmarkSample(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(strconv.Itoa(n)+"apps", func(b *testing.B) {
			m := metrics.New()
			list := make([]config.App, n)
			for i := range list {
				list[i] = config.App{Key: "k" + strconv.Itoa(i), Secret: "s"}
			}
			table := apps.NewTable(list, m)
			for _, a := range table.All() {
				a.Metrics.Connections.Inc()
			}
			s := sampler{opts: &Options{Node: "1", Apps: table, Metrics: m}}
			s.sample(context.Background(), 0)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				for _, a := range table.All() {
					a.Metrics.Delivered.Inc()
				}
				s.sample(context.Background(), int64(i+1))
			}
		})
	}
}
