// derpload: the DERP relay benchmark's load client (driven by bench/derp/main.ts).
//
// It opens `pairs` sender/receiver pairs of DERP connections to one server (plain HTTP
// "GET /derp" + "Upgrade: DERP", the handshake done by Tailscale's own derp.Client), then has
// every sender relay fixed-size packets to its receiver through the server, either as fast as
// TCP flow control lets it (-rate 0) or at a fixed total offered rate. Receivers count what
// arrives. The same binary drives every server under test, so the comparison is like for like.
//
// Output: one JSON object on stdout with the counts over the measurement window (after the
// warm-up), the totals after a drain period (loss = sent - received), and this process's own
// CPU time, so the caller can show the client is not the bottleneck.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"tailscale.com/derp"
	"tailscale.com/types/key"
)

var (
	addr     = flag.String("addr", "127.0.0.1:3340", "DERP server host:port (plain HTTP)")
	pairs    = flag.Int("pairs", 1, "sender/receiver pairs")
	size     = flag.Int("size", 1280, "packet payload bytes")
	warmup   = flag.Duration("warmup", 2*time.Second, "load before the measurement window")
	duration = flag.Duration("duration", 10*time.Second, "measurement window")
	rate     = flag.Float64("rate", 0, "total offered packets/s over all pairs; 0 = as fast as flow control allows")
	batch    = flag.Int("batch", 8, "SendPacket frames per write() when unpaced")
	drain    = flag.Duration("drain", 3*time.Second, "after the senders stop, wait at most this long for stragglers")
)

type pair struct {
	sent      atomic.Int64 // packets written by the sender
	writes    atomic.Int64 // write() calls by the sender
	recvPkts  atomic.Int64 // RecvPacket frames from the right source with the right size
	recvBytes atomic.Int64
	badFrames atomic.Int64 // RecvPacket frames of the wrong size, source or contents
	reordered atomic.Int64 // packets whose sequence number is below one already received
	peerGone  atomic.Int64
	senderKey key.NodePublic
	send      net.Conn
}

type counts struct {
	Sent      int64 `json:"sent"`
	Received  int64 `json:"received"`
	RecvBytes int64 `json:"recvBytes"`
}

type result struct {
	Pairs           int     `json:"pairs"`
	Size            int     `json:"size"`
	OfferedPPS      float64 `json:"offeredPps"`
	WindowSec       float64 `json:"windowSec"`
	Window          counts  `json:"window"`
	Total           counts  `json:"total"`
	Lost            int64   `json:"lost"`
	BadFrames       int64   `json:"badFrames"`
	Reordered       int64   `json:"reordered"`
	PeerGone        int64   `json:"peerGone"`
	PacketsPerWrite float64 `json:"packetsPerWrite"` // senders' mean burst
	ClientCPUSec    float64 `json:"clientCpuSec"`    // during the window
	ClientCPUTotal  float64 `json:"clientCpuTotal"`
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// dial does the HTTP upgrade and the DERP handshake, up to the ServerInfo frame.
func dial(priv key.NodePrivate) (net.Conn, *bufio.Reader, error) {
	nc, err := net.Dial("tcp", *addr)
	if err != nil {
		return nil, nil, err
	}
	nc.(*net.TCPConn).SetNoDelay(true)
	br := bufio.NewReaderSize(nc, 256<<10)
	bw := bufio.NewWriterSize(nc, 4<<10)
	fmt.Fprintf(bw, "GET /derp HTTP/1.1\r\nHost: %s\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n", *addr)
	if err := bw.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, nil, fmt.Errorf("DERP upgrade: HTTP %s", res.Status)
	}
	c, err := derp.NewClient(priv, nc, bufio.NewReadWriter(br, bw), func(string, ...any) {})
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	// ServerInfo must come first; it proves the server registered us.
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	t, n, err := derp.ReadFrameHeader(br)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		nc.Close()
		return nil, nil, err
	}
	if t != derp.FrameServerInfo {
		nc.Close()
		return nil, nil, fmt.Errorf("first frame 0x%x, want ServerInfo", byte(t))
	}
	if len(payload) < 24 {
		nc.Close()
		return nil, nil, errors.New("short ServerInfo")
	}
	if _, ok := priv.OpenFrom(c.ServerPublicKey(), payload); !ok {
		nc.Close()
		return nil, nil, errors.New("ServerInfo does not open")
	}
	nc.SetReadDeadline(time.Time{})
	return nc, br, nil
}

// readLoop consumes frames; on a receiver it counts RecvPacket frames from want.
func readLoop(br *bufio.Reader, p *pair, count bool) {
	want := p.senderKey.AppendTo(nil)
	var next uint64 // the sequence number expected next
	for {
		hdr, err := br.Peek(derp.FrameHeaderLen)
		if err != nil {
			return
		}
		t := derp.FrameType(hdr[0])
		n := int(binary.BigEndian.Uint32(hdr[1:5]))
		if _, err := br.Discard(derp.FrameHeaderLen); err != nil {
			return
		}
		if count && t == derp.FrameRecvPacket && n <= br.Size() {
			b, err := br.Peek(n)
			if err != nil {
				return
			}
			// Intact: right size and source, the sender's fill byte at the end; in order.
			if n == 32+*size && string(b[:32]) == string(want) && b[n-1] == byte(n+4) {
				p.recvPkts.Add(1)
				p.recvBytes.Add(int64(n - 32))
				if seq := binary.BigEndian.Uint64(b[32:40]); seq >= next {
					next = seq + 1
				} else {
					p.reordered.Add(1)
				}
			} else {
				p.badFrames.Add(1)
			}
		} else if t == derp.FramePeerGone {
			p.peerGone.Add(1)
		}
		if _, err := br.Discard(n); err != nil {
			return
		}
	}
}

// frames returns k SendPacket frames to dst back to back, and the length of one. The packet
// starts with a sequence number (stamp) and is otherwise filled with a byte pattern.
func frames(dst key.NodePublic, k int) ([]byte, int) {
	one := make([]byte, derp.FrameHeaderLen+32+*size)
	one[0] = byte(derp.FrameSendPacket)
	binary.BigEndian.PutUint32(one[1:5], uint32(32+*size))
	copy(one[5:], dst.AppendTo(nil))
	for i := 5 + 32; i < len(one); i++ {
		one[i] = byte(i) // not a disco packet: disco starts with "TS💬"
	}
	out := make([]byte, 0, k*len(one))
	for i := 0; i < k; i++ {
		out = append(out, one...)
	}
	return out, len(one)
}

// stamp numbers the first k frames of buf from seq on.
func stamp(buf []byte, one, k int, seq uint64) {
	for i := 0; i < k; i++ {
		binary.BigEndian.PutUint64(buf[i*one+derp.FrameHeaderLen+32:], seq+uint64(i))
	}
}

func main() {
	flag.Parse()
	if *pairs < 1 || *size < 8 || *size > derp.MaxPacketSize || *batch < 1 {
		fmt.Fprintln(os.Stderr, "derpload: bad flags")
		os.Exit(2)
	}
	ps := make([]*pair, *pairs)
	dsts := make([]key.NodePublic, *pairs)
	for i := range ps {
		recvPriv, sendPriv := key.NewNode(), key.NewNode()
		p := &pair{senderKey: sendPriv.Public()}
		rc, rbr, err := dial(recvPriv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "derpload: receiver:", err)
			os.Exit(1)
		}
		_ = rc
		sc, sbr, err := dial(sendPriv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "derpload: sender:", err)
			os.Exit(1)
		}
		p.send = sc
		go readLoop(rbr, p, true)
		go readLoop(sbr, p, false)
		ps[i] = p
		dsts[i] = recvPriv.Public()
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for i, p := range ps {
		wg.Add(1)
		go func(p *pair, dst key.NodePublic) {
			defer wg.Done()
			if *rate <= 0 {
				buf, one := frames(dst, *batch)
				var seq uint64
				for !stop.Load() {
					stamp(buf, one, *batch, seq)
					if _, err := p.send.Write(buf); err != nil {
						return
					}
					seq += uint64(*batch)
					p.sent.Add(int64(*batch))
					p.writes.Add(1)
				}
				return
			}
			// Paced: keep the count sent on the line rate*t, in small bursts.
			per := *rate / float64(*pairs)
			const maxBurst = 64
			buf, one := frames(dst, maxBurst)
			var sent int64
			for !stop.Load() {
				due := int64(per * time.Since(start).Seconds())
				for due > sent {
					k := due - sent
					if k > maxBurst {
						k = maxBurst
					}
					stamp(buf, one, int(k), uint64(sent))
					if _, err := p.send.Write(buf[:int(k)*one]); err != nil {
						return
					}
					sent += k
					p.sent.Add(k)
					p.writes.Add(1)
				}
				time.Sleep(200 * time.Microsecond)
			}
		}(p, dsts[i])
	}

	snap := func() counts {
		var c counts
		for _, p := range ps {
			c.Sent += p.sent.Load()
			c.Received += p.recvPkts.Load()
			c.RecvBytes += p.recvBytes.Load()
		}
		return c
	}
	// The caller samples the server's CPU time on these two stderr lines.
	time.Sleep(*warmup)
	c0, cpu0, t0 := snap(), cpuSeconds(), time.Now()
	fmt.Fprintln(os.Stderr, "window-start")
	time.Sleep(*duration)
	c1, cpu1, t1 := snap(), cpuSeconds(), time.Now()
	fmt.Fprintln(os.Stderr, "window-end")
	stop.Store(true)
	wg.Wait()
	// Drain: wait until everything sent arrived, or nothing more arrives for 500 ms.
	last, lastChange, deadline := snap(), time.Now(), time.Now().Add(*drain)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		c := snap()
		if c.Received >= c.Sent {
			last = c
			break
		}
		if c.Received != last.Received {
			last, lastChange = c, time.Now()
		} else if time.Since(lastChange) > 500*time.Millisecond {
			break
		}
	}
	total := snap()
	var bad, gone, writes, reordered int64
	for _, p := range ps {
		reordered += p.reordered.Load()
		writes += p.writes.Load()
		bad += p.badFrames.Load()
		gone += p.peerGone.Load()
	}
	r := result{
		Pairs:           *pairs,
		Size:            *size,
		OfferedPPS:      *rate,
		WindowSec:       t1.Sub(t0).Seconds(),
		Window:          counts{Sent: c1.Sent - c0.Sent, Received: c1.Received - c0.Received, RecvBytes: c1.RecvBytes - c0.RecvBytes},
		Total:           total,
		Lost:            total.Sent - total.Received,
		BadFrames:       bad,
		Reordered:       reordered,
		PeerGone:        gone,
		PacketsPerWrite: float64(total.Sent) / float64(max(writes, 1)),
		ClientCPUSec:    cpu1 - cpu0,
		ClientCPUTotal:  cpuSeconds(),
	}
	json.NewEncoder(os.Stdout).Encode(r)
}
