// Checks a Custody ledger checkpoint, entry and proofs with golang.org/x/mod/sumdb/note
// and golang.org/x/mod/sumdb/tlog, an RFC 6962 / signed-note implementation written
// independently of Custody.
//
// usage: verify VKEY CHECKPOINT ENTRY INCLUSION_PROOF_JSON [OLD_CHECKPOINT CONSISTENCY_PROOF_JSON]
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func read(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return b
}

func hash(b64 string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		fail("bad hash %q", b64)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

// openCheckpoint verifies the signed note and returns (size, root).
func openCheckpoint(v note.Verifier, path string) (int64, tlog.Hash) {
	n, err := note.Open(read(path), note.VerifierList(v))
	if err != nil {
		fail("checkpoint %s: %v", path, err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		fail("checkpoint %s: unexpected body %q", path, n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint %s: bad size %q", path, lines[1])
	}
	return size, hash(lines[2])
}

func main() {
	if len(os.Args) != 5 && len(os.Args) != 7 {
		fail("usage: verify VKEY CHECKPOINT ENTRY INCLUSION_PROOF_JSON [OLD_CHECKPOINT CONSISTENCY_PROOF_JSON]")
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(read(os.Args[1]))))
	if err != nil {
		fail("vkey: %v", err)
	}
	size, root := openCheckpoint(v, os.Args[2])

	var inc struct {
		Index    int64    `json:"index"`
		TreeSize int64    `json:"tree_size"`
		Hashes   []string `json:"hashes"`
	}
	if err := json.Unmarshal(read(os.Args[4]), &inc); err != nil {
		fail("inclusion proof: %v", err)
	}
	if inc.TreeSize != size {
		fail("inclusion proof is for size %d, checkpoint has %d", inc.TreeSize, size)
	}
	var rp tlog.RecordProof
	for _, h := range inc.Hashes {
		rp = append(rp, hash(h))
	}
	leaf := tlog.RecordHash(read(os.Args[3]))
	if err := tlog.CheckRecord(rp, size, root, inc.Index, leaf); err != nil {
		fail("inclusion of entry %d in tree %d: %v", inc.Index, size, err)
	}
	fmt.Printf("inclusion ok: entry %d in tree of size %d\n", inc.Index, size)

	if len(os.Args) == 7 {
		oldSize, oldRoot := openCheckpoint(v, os.Args[5])
		var con struct {
			OldSize int64    `json:"old_size"`
			NewSize int64    `json:"new_size"`
			Hashes  []string `json:"hashes"`
		}
		if err := json.Unmarshal(read(os.Args[6]), &con); err != nil {
			fail("consistency proof: %v", err)
		}
		if con.OldSize != oldSize || con.NewSize != size {
			fail("consistency proof is for %d->%d, checkpoints are %d->%d", con.OldSize, con.NewSize, oldSize, size)
		}
		var tp tlog.TreeProof
		for _, h := range con.Hashes {
			tp = append(tp, hash(h))
		}
		if err := tlog.CheckTree(tp, size, root, oldSize, oldRoot); err != nil {
			fail("consistency %d->%d: %v", oldSize, size, err)
		}
		fmt.Printf("consistency ok: %d -> %d\n", oldSize, size)
	}
}
