package testenv

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// JupyterOptions configure StartJupyter.
type JupyterOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// Token required by the server ("" means no auth at all).
	Token string
}

// Jupyter is a real Jupyter Notebook server (Debian jupyter-notebook)
// started for a test, serving Dir.
type Jupyter struct {
	Addr netip.Addr
	Port int
	Dir  string
}

// StartJupyter runs jupyter-notebook with its state (config, runtime,
// data) in a temp dir, serving a notebook folder seeded with
// personal-data-shaped files (see seedJupyter); it is stopped when the
// test ends.
func StartJupyter(t testing.TB, o JupyterOptions) *Jupyter {
	t.Helper()
	bin := Binary(t, "jupyter-notebook")
	home := t.TempDir()
	s := &Jupyter{Dir: filepath.Join(home, "notebooks")}
	s.Addr, s.Port = Listen(t, o.Addr, o.Port)
	seedJupyter(t, s.Dir)
	token := o.Token
	cmd := exec.Command(bin, "--no-browser", "--allow-root",
		"--ip="+s.Addr.String(), fmt.Sprintf("--port=%d", s.Port), "--port-retries=0",
		"--NotebookApp.token="+token, "--NotebookApp.password=",
		"--notebook-dir="+s.Dir)
	cmd.Env = append(os.Environ(), "HOME="+home,
		"JUPYTER_CONFIG_DIR="+filepath.Join(home, "cfg"),
		"JUPYTER_DATA_DIR="+filepath.Join(home, "data"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(home, "rt"),
		"IPYTHONDIR="+filepath.Join(home, "ipython"))
	StartAndWait(t, "jupyter-notebook", cmd, s.Addr, s.Port, 40*time.Second)
	return s
}

const jupyterNotebook = `{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Churn analysis\n", "Owner: alice.martin@example.com"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
   "source": ["import boto3\n", "s3 = boto3.client('s3', aws_access_key_id='AKIA2Q7XK5MZ3LRP4WTB',\n", "    aws_secret_access_key='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')"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5
}`

// JupyterSeedFiles are the files Seed puts in each listed folder (at most
// one level deep; .env files are hidden by Jupyter).
var JupyterSeedFiles = map[string]int64{"/": 3, "/data": 2}

// JupyterSecrets are raw seeded values no leakwatch output may contain.
var JupyterSecrets = []string{"alice.martin@example.com", "AKIA2Q7XK5MZ3LRP4WTB", "q8Vd2LrT0xkPz7N4bYcW1mJ5hGs9eFaU3iQoR6tK", "Winter2024!db", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}

func seedJupyter(t testing.TB, dir string) {
	t.Helper()
	WriteFile(t, filepath.Join(dir, "analysis.ipynb"), jupyterNotebook)
	WriteFile(t, filepath.Join(dir, "customers.csv"), "email,full_name,phone\n"+
		"alice.martin@example.com,Alice Martin,+1 555 0100\nbob.oneil@example.org,Bob O'Neil,+1 555 0101\n"+
		"carol@example.net,\"Jones, Carol\",+44 20 7946 0000\n")
	WriteFile(t, filepath.Join(dir, "notes.txt"), "call dave@example.com about the export\n")
	WriteFile(t, filepath.Join(dir, ".env"), "SECRET=hidden-by-default\n")
	WriteFile(t, filepath.Join(dir, "data", "export.csv"), "user_email,token\neve@example.com,tok_8f2a\nfrank@example.com,tok_99b1\n")
	WriteFile(t, filepath.Join(dir, "data", "prod.env"), "DB_PASSWORD=Winter2024!db\nAPI_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a\n")
	WriteFile(t, filepath.Join(dir, "data", "deeper", "never.csv"), "email\nzed@example.com\n")
}
