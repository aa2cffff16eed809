// Command pecref runs one reference PEC provider instance from a config file
// (the lab starts two: alpha and beta).
//
//	pecref -config FILE        run the instance until SIGINT/SIGTERM
//	pecref config describe     print an annotated sample configuration
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"

	"github.com/pecspec/pecspec/reference/provider"
	"github.com/pecspec/pecspec/reference/ratelog"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "config" && os.Args[2] == "describe" {
		fmt.Print(provider.Sample)
		return
	}
	cfgPath := flag.String("config", "", "instance configuration (YAML); see `pecref config describe`")
	verbose := flag.Bool("v", false, "debug logging")
	flag.Parse()
	if *cfgPath == "" {
		fmt.Fprintln(os.Stderr, "pecref: -config is required (see `pecref config describe`)")
		os.Exit(2)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	// Repeated lines are rate-limited, with a summary of what was dropped
	// (package ratelog; issue 15).
	log := slog.New(ratelog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}), ratelog.Options{}))
	if err := run(*cfgPath, log); err != nil {
		log.Error("pecref stopped", "err", err)
		os.Exit(1)
	}
}

func run(path string, log *slog.Logger) error {
	cfg, err := provider.LoadConfig(path)
	if err != nil {
		return err
	}
	if dir := os.Getenv("PECREF_CPUPROFILE_DIR"); dir != "" {
		// For performance work: a CPU profile of the whole run, written at
		// a clean stop as <dir>/<name>.pprof (go tool pprof).
		f, err := os.Create(filepath.Join(dir, cfg.Name+".pprof"))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		// And the allocations of the run (go tool pprof -sample_index=alloc_space).
		defer func() {
			if f, err := os.Create(filepath.Join(dir, cfg.Name+".allocs.pprof")); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := provider.New(cfg, log)
	if err != nil {
		return err
	}
	return p.Run(ctx)
}
