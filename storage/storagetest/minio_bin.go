package storagetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// minioBinary finds the MinIO server binary, building it if there is none,
// so that tests never skip for lack of it.
func minioBinary(ctx context.Context, progress io.Writer) (string, error) {
	if bin := os.Getenv("LINKARC_MINIO_BIN"); bin != "" {
		if !isExecutable(bin) {
			return "", fmt.Errorf("LINKARC_MINIO_BIN=%s: not an executable file", bin)
		}
		return bin, nil
	}
	if bin, err := exec.LookPath("minio"); err == nil {
		return bin, nil
	}
	installed, err := goInstallPath(ctx)
	if err != nil {
		return "", err
	}
	if isExecutable(installed) {
		return installed, nil
	}

	// Several test binaries may get here at once; one builds, the others
	// wait for it and then find the binary.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "linkarc-minio-build.lock"))
	if err != nil {
		return "", fmt.Errorf("build minio: %w", err)
	}
	defer unlock()
	if isExecutable(installed) {
		return installed, nil
	}
	fmt.Fprintf(progress, "storagetest: no MinIO binary found; building %s with go install (takes about 3 minutes)...\n", MinIOModule)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "install", MinIOModule)
	cmd.Dir = os.TempDir() // outside any module: install exactly that version
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build minio (go install %s): %w\n%s", MinIOModule, err, out)
	}
	if !isExecutable(installed) {
		return "", fmt.Errorf("build minio: go install succeeded but %s is missing", installed)
	}
	fmt.Fprintf(progress, "storagetest: built %s in %s\n", installed, time.Since(start).Round(time.Second))
	return installed, nil
}

// goInstallPath is where go install puts the minio command.
func goInstallPath(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("find minio: go env: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) == 2 && strings.TrimSpace(lines[0]) != "" {
		return filepath.Join(strings.TrimSpace(lines[0]), "minio"), nil
	}
	gopath := strings.TrimSpace(lines[len(lines)-1])
	if gopath == "" {
		return "", errors.New("find minio: go env GOPATH is empty")
	}
	return filepath.Join(filepath.SplitList(gopath)[0], "bin", "minio"), nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
