// Package gobench measures Go's own cures for a shared map on the cases
// racefree-bench runs, so that racefree's figures can be set beside Go's
// on the same machine. Go's sync.Map and RWMutex map are measured by Go's
// own benchmark (`go test -bench Map sync`); this package adds what that
// one lacks: the channel-owner map (one goroutine owns the map and serves
// requests over channels) and string keys. Each benchmark mirrors Go's
// LoadMostlyHits (src/sync/map_bench_test.go): 1023 keys stored and read
// twice over, then every goroutine reads key i % 1024 with its own
// counter, so one call in 1024 misses.
//
//	go test -run XXX -bench . -cpu 1,2,8 -count 3
package gobench

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// A map as the benchmarks drive it.
type loader[K comparable] interface {
	Load(key K) (int, bool)
	Store(key K, value int)
}

// cacheServer is the channel-owner map: one goroutine owns a plain map
// and answers requests sent over a channel, each with its own reply
// channel, the way Go programs commonly serve a cache.
type cacheServer[K comparable] struct {
	requests chan request[K]
}

type request[K comparable] struct {
	key   K
	value int
	store bool
	reply chan reply
}

type reply struct {
	value int
	ok    bool
}

func newCacheServer[K comparable]() *cacheServer[K] {
	s := &cacheServer[K]{requests: make(chan request[K])}
	go s.serve()
	return s
}

func (s *cacheServer[K]) serve() {
	m := make(map[K]int)
	for r := range s.requests {
		if r.store {
			m[r.key] = r.value
			r.reply <- reply{}
		} else {
			v, ok := m[r.key]
			r.reply <- reply{v, ok}
		}
	}
}

func (s *cacheServer[K]) call(r request[K]) reply {
	r.reply = make(chan reply, 1)
	s.requests <- r
	return <-r.reply
}

func (s *cacheServer[K]) Load(key K) (int, bool) {
	r := s.call(request[K]{key: key})
	return r.value, r.ok
}

func (s *cacheServer[K]) Store(key K, value int) {
	s.call(request[K]{key: key, value: value, store: true})
}

func (s *cacheServer[K]) close() { close(s.requests) }

// rwMutexMap is a plain map behind a sync.RWMutex.
type rwMutexMap[K comparable] struct {
	mu sync.RWMutex
	m  map[K]int
}

func (m *rwMutexMap[K]) Load(key K) (int, bool) {
	m.mu.RLock()
	v, ok := m.m[key]
	m.mu.RUnlock()
	return v, ok
}

func (m *rwMutexMap[K]) Store(key K, value int) {
	m.mu.Lock()
	m.m[key] = value
	m.mu.Unlock()
}

// syncMap is sync.Map with typed keys and values.
type syncMap[K comparable] struct{ m sync.Map }

func (m *syncMap[K]) Load(key K) (int, bool) {
	v, ok := m.m.Load(key)
	if !ok {
		return 0, false
	}
	return v.(int), true
}

func (m *syncMap[K]) Store(key K, value int) { m.m.Store(key, value) }

const hits, misses = 1023, 1

// loadMostlyHits runs Go's LoadMostlyHits on m, whose keys key(i) gives,
// and checks every hit's value.
func loadMostlyHits[K comparable](b *testing.B, m loader[K], key func(int) K) {
	keys := make([]K, hits+misses)
	for i := range keys {
		keys[i] = key(i)
	}
	for i := 0; i < hits; i++ {
		m.Store(keys[i], i)
	}
	for i := 0; i < hits*2; i++ {
		m.Load(keys[i%hits])
	}
	var next int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(atomic.AddInt64(&next, 1)-1) * b.N
		for ; pb.Next(); i++ {
			j := i % (hits + misses)
			v, ok := m.Load(keys[j])
			if ok != (j < hits) || (ok && v != j) {
				b.Errorf("Load(%v) = %v, %v", keys[j], v, ok)
				return
			}
		}
	})
}

func intKey(i int) int       { return i }
func stringKey(i int) string { return strconv.Itoa(i) }

func BenchmarkLoadMostlyHits(b *testing.B) {
	b.Run("int/CacheServer", func(b *testing.B) {
		s := newCacheServer[int]()
		defer s.close()
		loadMostlyHits[int](b, s, intKey)
	})
	b.Run("string/CacheServer", func(b *testing.B) {
		s := newCacheServer[string]()
		defer s.close()
		loadMostlyHits[string](b, s, stringKey)
	})
	b.Run("string/RWMutexMap", func(b *testing.B) {
		loadMostlyHits[string](b, &rwMutexMap[string]{m: map[string]int{}}, stringKey)
	})
	b.Run("string/sync.Map", func(b *testing.B) {
		loadMostlyHits[string](b, &syncMap[string]{}, stringKey)
	})
}

// TestCacheServer checks the channel-owner map the benchmark measures.
func TestCacheServer(t *testing.T) {
	s := newCacheServer[string]()
	defer s.close()
	if _, ok := s.Load("a"); ok {
		t.Fatal("an empty server found a key")
	}
	s.Store("a", 1)
	s.Store("a", 2)
	if v, ok := s.Load("a"); !ok || v != 2 {
		t.Fatalf("Load(a) = %v, %v; want 2, true", v, ok)
	}
}
