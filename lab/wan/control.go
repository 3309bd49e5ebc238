package wan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"
)

// request and response are the control protocol: one JSON request and one
// JSON response per connection on a unix socket.
type request struct {
	Op    string `json:"op"` // "set", "stats" or "ping"
	Links []Link `json:"links,omitempty"`
}

type response struct {
	Error string      `json:"error,omitempty"`
	Stats []LinkStats `json:"stats,omitempty"`
	Pid   int         `json:"pid,omitempty"`
	// Scheduling is what the router's threads got (Router.Scheduling).
	Scheduling string `json:"scheduling,omitempty"`
}

// Serve creates the sites' devices, forwards packets and answers control
// requests until ctx ends. The devices disappear with the process.
func Serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	var ports []Port
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, s := range cfg.Sites {
		f, err := setUp(s, cfg.MTU)
		if err != nil {
			return err
		}
		files = append(files, f)
		ports = append(ports, f)
		log.Info("site ready", "site", s.Name, "device", s.Device, "netns", s.Netns)
	}
	r, err := NewRouter(cfg.Sites, ports, cfg.MTU, cfg.Links)
	if err != nil {
		return err
	}
	r.Prioritize(cfg.Priority)
	log.Info("scheduling", "threads", r.Scheduling())
	_ = os.Remove(cfg.Socket)
	ln, err := net.Listen("unix", cfg.Socket)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer os.Remove(cfg.Socket)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		ln.Close()
		for _, f := range files {
			f.Close() // unblocks the readers
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c, r, log)
		}
	}()
	return r.Run(ctx)
}

func handle(c net.Conn, r *Router, log *slog.Logger) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var req request
	var resp response
	if err := json.NewDecoder(c).Decode(&req); err != nil {
		resp.Error = "bad request: " + err.Error()
	} else {
		switch req.Op {
		case "set":
			if err := r.SetLinks(req.Links); err != nil {
				resp.Error = err.Error()
			} else {
				log.Info("links set", "count", len(req.Links))
			}
		case "stats":
			resp.Stats = r.Stats()
		case "ping":
			resp.Pid, resp.Scheduling = os.Getpid(), r.Scheduling()
		default:
			resp.Error = fmt.Sprintf("unknown op %q", req.Op)
		}
	}
	_ = json.NewEncoder(c).Encode(resp)
}

// Client talks to a running router's control socket.
type Client struct {
	Socket string
}

func (c Client) call(ctx context.Context, req request) (response, error) {
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "unix", c.Socket)
	if err != nil {
		return response{}, fmt.Errorf("router not reachable: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return response{}, fmt.Errorf("router request: %w", err)
	}
	var resp response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return response{}, fmt.Errorf("router response: %w", err)
	}
	if resp.Error != "" {
		return resp, errors.New("router: " + resp.Error)
	}
	return resp, nil
}

// SetLinks replaces the state of the given links.
func (c Client) SetLinks(ctx context.Context, links []Link) error {
	_, err := c.call(ctx, request{Op: "set", Links: links})
	return err
}

// Stats returns every link's state and counters.
func (c Client) Stats(ctx context.Context) ([]LinkStats, error) {
	resp, err := c.call(ctx, request{Op: "stats"})
	return resp.Stats, err
}

// Pong is a ready router's answer to Ping.
type Pong struct {
	Pid int
	// Scheduling is what its threads got from the kernel.
	Scheduling string
}

// Ping returns the router's process id and scheduling once it is ready.
func (c Client) Ping(ctx context.Context) (Pong, error) {
	resp, err := c.call(ctx, request{Op: "ping"})
	return Pong{Pid: resp.Pid, Scheduling: resp.Scheduling}, err
}
