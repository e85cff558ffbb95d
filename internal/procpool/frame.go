package procpool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The protocol: the parent writes requests to the worker's fd 3 and reads
// responses from its fd 4, one at a time. Every message is a frame: a
// 4-byte big-endian length, then that many bytes. The worker's first frame
// is a response with statusReady listing its handlers, one per line.
//
//	request:  name length (2 bytes) | name | input
//	response: status (1) | peak RSS (8) | detail length (4) | detail | output
//
// The worker answers each request twice: statusAccepted once it has read
// the whole job, then the result. A worker that dies before accepting
// never ran the job, which can then go to another worker.
const (
	statusOK       byte = iota // output is the handler's result
	statusError                // detail is the handler's error
	statusPanic                // detail is the panic; the worker exits after this frame
	statusUnknown              // no handler of that name
	statusReady                // output lists the handlers
	statusAccepted             // the job was read and is running
)

// errFrameTooLarge is a frame over the reader's limit.
var errFrameTooLarge = errors.New("frame over the size limit")

// errProtocol is a frame that is not what the protocol allows.
var errProtocol = errors.New("protocol")

func writeFrame(w io.Writer, head []byte, body ...[]byte) error {
	size := len(head)
	for _, part := range body {
		size += len(part)
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(size))
	if _, err := w.Write(append(n[:], head...)); err != nil {
		return err
	}
	for _, part := range body {
		if len(part) == 0 {
			continue
		}
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// readFrame reads one frame of at most limit bytes.
func readFrame(r io.Reader, limit int) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if uint64(size) > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", errFrameTooLarge, size, limit)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

func writeRequest(w io.Writer, name string, in [][]byte) error {
	head := binary.BigEndian.AppendUint16(nil, uint16(len(name)))
	return writeFrame(w, append(head, name...), in...)
}

func parseRequest(frame []byte) (name string, in []byte, err error) {
	if len(frame) < 2 {
		return "", nil, errors.New("short request")
	}
	n := int(binary.BigEndian.Uint16(frame))
	if len(frame) < 2+n {
		return "", nil, errors.New("short request name")
	}
	return string(frame[2 : 2+n]), frame[2+n:], nil
}

type response struct {
	status  byte
	peakRSS int64
	detail  string
	out     []byte
}

func writeResponse(w io.Writer, r response) error {
	head := []byte{r.status}
	head = binary.BigEndian.AppendUint64(head, uint64(r.peakRSS))
	head = binary.BigEndian.AppendUint32(head, uint32(len(r.detail)))
	return writeFrame(w, append(head, r.detail...), r.out)
}

func parseResponse(frame []byte) (response, error) {
	if len(frame) < 13 {
		return response{}, errors.New("short response")
	}
	r := response{status: frame[0], peakRSS: int64(binary.BigEndian.Uint64(frame[1:]))}
	n := int(binary.BigEndian.Uint32(frame[9:]))
	if len(frame) < 13+n {
		return response{}, errors.New("short response detail")
	}
	r.detail, r.out = string(frame[13:13+n]), frame[13+n:]
	return r, nil
}
