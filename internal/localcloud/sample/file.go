package sample

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// MetaFile is the name of the file describing the logstore.
const MetaFile = "logstore.json"

// maxLine bounds one line of a shard file.
const maxLine = 64 << 20

// ShardFile returns the name of the file holding shard i.
func ShardFile(i int) string { return fmt.Sprintf("shard-%d.jsonl", i) }

var shardFileRE = regexp.MustCompile(`^shard-(\d+)\.jsonl$`)

type jsonMeta struct {
	Project  string `json:"project"`
	Logstore string `json:"logstore"`
	Shards   int    `json:"shards"`
}

type jsonGroup struct {
	Topic  *string   `json:"topic"`
	Source *string   `json:"source"`
	Tags   []Pair    `json:"tags"`
	Logs   []jsonLog `json:"logs"`
}

type jsonLog struct {
	Time     *uint32 `json:"time"`
	TimeNs   uint32  `json:"timeNs,omitempty"`
	Contents []Pair  `json:"contents"`
}

// Load reads the logstore stored in dir by Write.
// Errors name the file and, for shard files, the line.
func Load(dir string) (*Logstore, error) {
	metaPath := filepath.Join(dir, MetaFile)
	data, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, fmt.Errorf("load sample logstore: %w", err)
	}
	var meta jsonMeta
	if err := decodeStrict(data, &meta); err != nil {
		return nil, fmt.Errorf("load sample logstore: %s: %w", metaPath, err)
	}
	switch {
	case meta.Project == "":
		return nil, fmt.Errorf("load sample logstore: %s: missing project", metaPath)
	case meta.Logstore == "":
		return nil, fmt.Errorf("load sample logstore: %s: missing logstore", metaPath)
	case meta.Shards < 1:
		return nil, fmt.Errorf("load sample logstore: %s: shards must be at least 1, got %d", metaPath, meta.Shards)
	}
	if err := checkNoExtraShards(dir, meta.Shards); err != nil {
		return nil, fmt.Errorf("load sample logstore: %w", err)
	}
	ls := &Logstore{Project: meta.Project, Logstore: meta.Logstore, Shards: make([][]LogGroup, meta.Shards)}
	for i := range ls.Shards {
		groups, err := loadShard(filepath.Join(dir, ShardFile(i)))
		if err != nil {
			return nil, fmt.Errorf("load sample logstore: %w", err)
		}
		ls.Shards[i] = groups
	}
	return ls, nil
}

// checkNoExtraShards reports shard files in dir numbered n or above, which
// logstore.json does not account for.
func checkNoExtraShards(dir string, n int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		m := shardFileRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if i, err := strconv.Atoi(m[1]); err != nil || i >= n || e.Name() != ShardFile(i) {
			return fmt.Errorf("%s: unexpected shard file: %s declares %d shards", filepath.Join(dir, e.Name()), MetaFile, n)
		}
	}
	return nil
}

func loadShard(path string) ([]LogGroup, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var groups []LogGroup
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		g, err := DecodeGroup(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("%s: no log groups", path)
	}
	return groups, nil
}

// readLine returns the next line without its "\n"; the last line of a file
// may lack one. It returns io.EOF when no line is left.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}

// DecodeGroup parses one line of a shard file.
func DecodeGroup(line []byte) (LogGroup, error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return LogGroup{}, errors.New("empty line")
	}
	var w jsonGroup
	if err := decodeStrict(line, &w); err != nil {
		return LogGroup{}, err
	}
	if w.Topic == nil {
		return LogGroup{}, errors.New(`missing "topic"`)
	}
	if w.Source == nil {
		return LogGroup{}, errors.New(`missing "source"`)
	}
	if len(w.Logs) == 0 {
		return LogGroup{}, errors.New("log group has no logs")
	}
	g := LogGroup{Topic: *w.Topic, Source: *w.Source, Tags: nilIfEmpty(w.Tags), Logs: make([]Log, len(w.Logs))}
	for i, l := range w.Logs {
		if l.Time == nil {
			return LogGroup{}, fmt.Errorf(`logs[%d]: missing "time"`, i)
		}
		if l.TimeNs >= 1e9 {
			return LogGroup{}, fmt.Errorf("logs[%d]: timeNs %d is not below 1e9", i, l.TimeNs)
		}
		g.Logs[i] = Log{Time: *l.Time, TimeNs: l.TimeNs, Contents: nilIfEmpty(l.Contents)}
	}
	return g, nil
}

// EncodeGroup returns the shard-file line for g, without the trailing "\n".
// DecodeGroup(EncodeGroup(g)) equals g.
func EncodeGroup(g LogGroup) ([]byte, error) {
	w := jsonGroup{Topic: &g.Topic, Source: &g.Source, Tags: emptyIfNil(g.Tags), Logs: make([]jsonLog, len(g.Logs))}
	for i, l := range g.Logs {
		w.Logs[i] = jsonLog{Time: &l.Time, TimeNs: l.TimeNs, Contents: emptyIfNil(l.Contents)}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Write stores ls in dir, creating dir if needed, in the format Load reads.
// It removes shard files left over from a logstore with more shards.
func (ls *Logstore) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write sample logstore: %w", err)
	}
	meta, err := json.Marshal(jsonMeta{Project: ls.Project, Logstore: ls.Logstore, Shards: len(ls.Shards)})
	if err != nil {
		return fmt.Errorf("write sample logstore: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, MetaFile), append(meta, '\n'), 0o644); err != nil {
		return fmt.Errorf("write sample logstore: %w", err)
	}
	for i, groups := range ls.Shards {
		var buf bytes.Buffer
		for j, g := range groups {
			line, err := EncodeGroup(g)
			if err != nil {
				return fmt.Errorf("write sample logstore: shard %d group %d: %w", i, j, err)
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, ShardFile(i)), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write sample logstore: %w", err)
		}
	}
	return removeExtraShards(dir, len(ls.Shards))
}

func removeExtraShards(dir string, n int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("write sample logstore: %w", err)
	}
	for _, e := range entries {
		m := shardFileRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if i, err := strconv.Atoi(m[1]); err == nil && i < n && e.Name() == ShardFile(i) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("write sample logstore: %w", err)
		}
	}
	return nil
}

// decodeStrict decodes exactly one JSON value into v, rejecting unknown
// fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func nilIfEmpty(p []Pair) []Pair {
	if len(p) == 0 {
		return nil
	}
	return p
}

func emptyIfNil(p []Pair) []Pair {
	if p == nil {
		return []Pair{}
	}
	return p
}
