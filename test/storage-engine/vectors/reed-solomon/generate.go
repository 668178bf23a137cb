//go:build ignore

// Writes go-vectors.json: what github.com/klauspost/reedsolomon (the version SeaweedFS pins) produces
// for deterministic inputs, so the TypeScript codec can be checked byte for byte against the library
// SeaweedFS uses. This file is ours; it only calls the library's public API.
//
// Run it outside the repo (it needs a go.mod that pins the library):
//
//	mkdir /tmp/rs-vectors && cp generate.go /tmp/rs-vectors/main.go && cd /tmp/rs-vectors
//	go mod init rsvectors && go mod edit -require=github.com/klauspost/reedsolomon@v1.14.2
//	GOFLAGS=-mod=mod go run . > go-vectors.json
//
// then copy go-vectors.json here and run `npx biome format --write` on it (the repo's JSON style).
//
// Inputs come from xorshift32 (shifts 13, 17, 5) seeded per case; each byte is the top byte of the
// state after one step, and the data shards are filled one after the other.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"

	"github.com/klauspost/reedsolomon"
)

type xorshift32 struct{ state uint32 }

func (g *xorshift32) nextByte() byte {
	g.state ^= g.state << 13
	g.state ^= g.state >> 17
	g.state ^= g.state << 5
	return byte(g.state >> 24)
}

func makeData(dataCount, size int, seed uint32) [][]byte {
	g := &xorshift32{state: seed}
	shards := make([][]byte, dataCount)
	for i := range shards {
		shards[i] = make([]byte, size)
		for j := range shards[i] {
			shards[i][j] = g.nextByte()
		}
	}
	return shards
}

func encode(dataCount, parityCount int, data [][]byte) [][]byte {
	enc, err := reedsolomon.New(dataCount, parityCount)
	if err != nil {
		panic(err)
	}
	size := len(data[0])
	all := append([][]byte{}, data...)
	for range parityCount {
		all = append(all, make([]byte, size))
	}
	if err := enc.Encode(all); err != nil {
		panic(err)
	}
	return all
}

type matrixCase struct {
	Data       int      `json:"data"`
	Parity     int      `json:"parity"`
	ParityRows []string `json:"parityRows"`
}

type encodeCase struct {
	Data         int      `json:"data"`
	Parity       int      `json:"parity"`
	Size         int      `json:"size"`
	Seed         uint32   `json:"seed"`
	ParityHex    []string `json:"parityHex,omitempty"`
	ParitySha256 string   `json:"paritySha256"`
}

type reconstructCase struct {
	Data    int    `json:"data"`
	Parity  int    `json:"parity"`
	Size    int    `json:"size"`
	Seed    uint32 `json:"seed"`
	Corrupt struct {
		Shard int  `json:"shard"`
		Index int  `json:"index"`
		Xor   byte `json:"xor"`
	} `json:"corrupt"`
	Missing []int    `json:"missing"`
	Rebuilt []string `json:"rebuilt"`
}

type vectors struct {
	Library     string            `json:"library"`
	Prng        string            `json:"prng"`
	Matrices    []matrixCase      `json:"matrices"`
	Encode      []encodeCase      `json:"encode"`
	Reconstruct []reconstructCase `json:"reconstruct"`
}

// The parity rows of the encoding matrix, read back through Encode: data shard j holds a single 1 at
// byte j, so parity shard k holds row k of the parity part of the matrix.
func matrixRows(dataCount, parityCount int) matrixCase {
	data := make([][]byte, dataCount)
	for j := range data {
		data[j] = make([]byte, dataCount)
		data[j][j] = 1
	}
	all := encode(dataCount, parityCount, data)
	c := matrixCase{Data: dataCount, Parity: parityCount}
	for _, p := range all[dataCount:] {
		c.ParityRows = append(c.ParityRows, hex.EncodeToString(p))
	}
	return c
}

func encodeVector(dataCount, parityCount, size int, seed uint32, withHex bool) encodeCase {
	all := encode(dataCount, parityCount, makeData(dataCount, size, seed))
	c := encodeCase{Data: dataCount, Parity: parityCount, Size: size, Seed: seed}
	h := sha256.New()
	for _, p := range all[dataCount:] {
		h.Write(p)
		if withHex {
			c.ParityHex = append(c.ParityHex, hex.EncodeToString(p))
		}
	}
	c.ParitySha256 = hex.EncodeToString(h.Sum(nil))
	return c
}

// Reconstruct from a set in which one surviving shard was altered: the bytes Go rebuilds then depend
// on which surviving shards it chose to decode from, which the TypeScript codec must choose alike.
func reconstructVector(dataCount, parityCount, size int, seed uint32, corruptShard, index int, xor byte, missing []int) reconstructCase {
	enc, err := reedsolomon.New(dataCount, parityCount)
	if err != nil {
		panic(err)
	}
	all := encode(dataCount, parityCount, makeData(dataCount, size, seed))
	all[corruptShard][index] ^= xor
	for _, m := range missing {
		all[m] = nil
	}
	if err := enc.Reconstruct(all); err != nil {
		panic(err)
	}
	c := reconstructCase{Data: dataCount, Parity: parityCount, Size: size, Seed: seed, Missing: missing}
	c.Corrupt.Shard, c.Corrupt.Index, c.Corrupt.Xor = corruptShard, index, xor
	for _, m := range missing {
		c.Rebuilt = append(c.Rebuilt, hex.EncodeToString(all[m]))
	}
	return c
}

func main() {
	v := vectors{
		Library: "github.com/klauspost/reedsolomon v1.14.2, reedsolomon.New(data, parity) with default options",
		Prng:    "xorshift32 (13, 17, 5); byte = state >> 24 after each step; data shards filled in order",
	}
	for _, dp := range [][2]int{{10, 4}, {6, 3}, {4, 2}, {3, 1}, {1, 1}, {2, 5}, {16, 16}, {28, 4}} {
		v.Matrices = append(v.Matrices, matrixRows(dp[0], dp[1]))
	}
	small := []struct {
		d, p, size int
		seed       uint32
	}{
		{10, 4, 1, 1}, {10, 4, 7, 2}, {10, 4, 16, 3}, {10, 4, 33, 4}, {10, 4, 100, 5},
		{6, 3, 50, 6}, {3, 2, 17, 7}, {1, 3, 9, 8}, {20, 12, 20, 9}, {31, 1, 10, 10},
		{17, 239, 3, 11}, {12, 4, 15, 12},
	}
	for _, c := range small {
		v.Encode = append(v.Encode, encodeVector(c.d, c.p, c.size, c.seed, true))
	}
	large := []struct {
		d, p, size int
		seed       uint32
	}{
		{10, 4, 1 << 20, 101}, {10, 4, 1000003, 102}, {12, 4, 65541, 103}, {5, 3, 4097, 104},
		{200, 56, 4099, 105}, {24, 8, 65536, 106}, {2, 2, 123457, 107},
	}
	for _, c := range large {
		v.Encode = append(v.Encode, encodeVector(c.d, c.p, c.size, c.seed, false))
	}
	v.Reconstruct = append(v.Reconstruct,
		reconstructVector(10, 4, 24, 201, 12, 5, 0x5a, []int{0, 1, 2, 3}),
		reconstructVector(10, 4, 24, 202, 9, 0, 0x01, []int{2, 11, 13}),
		reconstructVector(6, 3, 19, 203, 7, 18, 0xff, []int{0, 8}),
		reconstructVector(10, 4, 17, 204, 4, 3, 0x80, []int{13}),
	)
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	out.SetIndent("", "  ")
	if err := out.Encode(v); err != nil {
		panic(err)
	}
}
