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
