package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// JavaNode returns the folder of testenv/<node>, a Maven-built Java
// launcher with start.sh and stop.sh (testenv/nodelib.sh), once it can
// run here: java installed, and mvn or an earlier build (its
// target/.<node>-built stamp).
func JavaNode(node string) (string, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return "", fmt.Errorf("testenv: java not installed: %w", err)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "testenv", node)
	if _, err := exec.LookPath("mvn"); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "target", "."+node+"-built")); serr != nil {
			return "", fmt.Errorf("testenv: mvn not installed: %w", err)
		}
	}
	return dir, nil
}

// startJavaNode runs testenv/<node>/start.sh with args once JavaNode says
// it can run; the script waits for the node at most its <NODE>_TIMEOUT
// and, when the node does not come up, stops it and prints its log's
// tail. It returns the script's output; an error (what names the server)
// carries the output's last 4,000 bytes.
func startJavaNode(node, what string, args ...string) (string, error) {
	dir, err := JavaNode(node)
	if err != nil {
		return "", err
	}
	out, err := exec.Command("bash", append([]string{filepath.Join(dir, "start.sh")}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("testenv: start %s: %w\n%s", what, err, tail(string(out), 4000))
	}
	return string(out), nil
}

// stopJavaNode runs testenv/<node>/stop.sh dataDir: SIGTERM to the node
// started with that folder, SIGKILL after 30 s.
func stopJavaNode(node, dataDir string) {
	root, err := RepoRoot()
	if err != nil {
		return
	}
	_ = exec.Command("bash", filepath.Join(root, "testenv", node, "stop.sh"), dataDir).Run()
}
