package storagetest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// Main runs a test binary's tests with one MinIO server for all of them,
// and stops the server when they end. Call it from TestMain:
//
//	var minioServer *storagetest.MinIO
//
//	func TestMain(m *testing.M) {
//		storagetest.Main(m, func(s *storagetest.MinIO) { minioServer = s })
//	}
//
// setup (which may be nil) runs before the tests. If MinIO cannot start,
// the tests fail; they never skip. The server is stopped on a normal exit
// and on SIGINT or SIGTERM; on Linux the kernel also kills it if the test
// binary dies any other way (panic, -timeout).
func Main(m *testing.M, setup func(*MinIO)) {
	os.Exit(runMain(m, setup))
}

func runMain(m *testing.M, setup func(*MinIO)) int {
	// Generous: the first run may have to build MinIO.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	srv, err := StartMinIO(ctx, MinIOOptions{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "storagetest: %v\n", err)
		return 1
	}
	defer srv.Close()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		srv.Close()
		fmt.Fprintf(os.Stderr, "storagetest: %v: stopped MinIO\n", sig)
		os.Exit(2)
	}()

	if setup != nil {
		setup(srv)
	}
	return m.Run()
}
