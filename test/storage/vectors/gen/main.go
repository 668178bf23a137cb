// Command gen writes the JSON test vectors in ../ by calling the pinned SeaweedFS Go packages, so
// the TypeScript storage engine is checked against what Go itself produces and accepts.
//
// It is not part of the build. To run it (network-free, from the Go module cache):
//
//	tmp=$(mktemp -d) && cp tools/seaweedfs/go.mod tools/seaweedfs/go.sum "$tmp" &&
//	sed -i 's#^module .*#module vecgen#; /^tool /d' "$tmp/go.mod" &&
//	cp test/storage/vectors/gen/main.go "$tmp" && out=$PWD/test/storage/vectors &&
//	fx=/work/shared/fixtures/seaweedfs-go &&
//	(cd "$tmp" && go run . "$out" "$fx" && go run -tags 5BytesOffset . "$out" "$fx")
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/seaweedfs/seaweedfs/weed/pb/master_pb"
	"github.com/seaweedfs/seaweedfs/weed/pb/volume_server_pb"
	"github.com/seaweedfs/seaweedfs/weed/stats"
	"github.com/seaweedfs/seaweedfs/weed/storage"
	"github.com/seaweedfs/seaweedfs/weed/storage/backend"
	"github.com/seaweedfs/seaweedfs/weed/storage/needle"
	"github.com/seaweedfs/seaweedfs/weed/storage/super_block"
	"github.com/seaweedfs/seaweedfs/weed/storage/types"
	"github.com/seaweedfs/seaweedfs/weed/storage/volume_info"
	"github.com/seaweedfs/seaweedfs/weed/util"
)

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeJSON(dir, name string, v any) {
	b, err := json.MarshalIndent(v, "", " ")
	check(err)
	check(os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644))
}

type needleVector struct {
	Label        string `json:"label"`
	Version      int    `json:"version"`
	Cookie       uint32 `json:"cookie"`
	Id           string `json:"id"`
	Data         string `json:"data"`
	Flags        int    `json:"flags"`
	Name         string `json:"name"`
	Mime         string `json:"mime"`
	LastModified uint64 `json:"lastModified"`
	TtlCount     int    `json:"ttlCount"`
	TtlUnit      int    `json:"ttlUnit"`
	Pairs        string `json:"pairs"`
	AppendAtNs   string `json:"appendAtNs"`
	Checksum     uint32 `json:"checksum"`
	Size         int32  `json:"size"`
	Record       string `json:"record"`
}

type needleSpec struct {
	label        string
	cookie       uint32
	id           uint64
	data         []byte
	flags        byte
	name, mime   []byte
	lastModified uint64
	ttl          *needle.TTL
	pairs        []byte
	checksum     *uint32
}

func needleSpecs() []needleSpec {
	ttl3d, _ := needle.ReadTTL("3d")
	long := []byte(strings.Repeat("n", 300))
	hundred := make([]byte, 100)
	for i := range hundred {
		hundred[i] = byte(i * 7)
	}
	masked := uint32(needle.NewCRC([]byte("legacy")).Value())
	oldCrc := uint32(needle.NewCRC([]byte("the deleted needle's data")))
	specs := []needleSpec{
		{label: "empty", cookie: 0x11223344, id: 1},
		{label: "tombstone with the deleted needle's checksum", cookie: 0x11223344, id: 2, checksum: &oldCrc},
		{label: "plain", cookie: 0x01020304, id: 0x63, data: []byte("hello")},
		{label: "name", cookie: 7, id: 0x64, data: []byte("hello"), flags: needle.FlagHasName, name: []byte("file.txt")},
		{label: "mime", cookie: 7, id: 0x65, data: []byte("hello"), flags: needle.FlagHasMime, mime: []byte("text/plain")},
		{label: "last modified", cookie: 7, id: 0x66, data: []byte("hello"), flags: needle.FlagHasLastModifiedDate, lastModified: 1700000000},
		{label: "ttl", cookie: 7, id: 0x67, data: []byte("hello"), flags: needle.FlagHasTtl, ttl: ttl3d},
		{label: "pairs", cookie: 7, id: 0x68, data: []byte("hello"), flags: needle.FlagHasPairs, pairs: []byte(`{"a":"b"}`)},
		{label: "every flag", cookie: 0xdeadbeef, id: 0xfedcba9876543210, data: hundred,
			flags: needle.FlagIsCompressed | needle.FlagHasName | needle.FlagHasMime | needle.FlagHasLastModifiedDate |
				needle.FlagHasTtl | needle.FlagHasPairs | needle.FlagIsChunkManifest,
			name: []byte("a.gz"), mime: []byte("application/json"), lastModified: 0xffffffffff, ttl: ttl3d, pairs: []byte(`{"k":"v"}`)},
		{label: "long name truncated to 255", cookie: 9, id: 0x69, data: []byte("x"), flags: needle.FlagHasName, name: long},
		{label: "masked legacy checksum", cookie: 9, id: 0x6a, data: []byte("legacy"), checksum: &masked},
	}
	for i := 1; i <= 16; i++ {
		specs = append(specs, needleSpec{label: fmt.Sprintf("padding %d", i), cookie: 0xabcdef01, id: uint64(0x1000 + i),
			data: []byte(strings.Repeat("p", i)), flags: needle.FlagHasLastModifiedDate, lastModified: 0x0102030405 + uint64(i)})
	}
	return specs
}

func needleVectors(dir string) {
	var out []needleVector
	for _, version := range []needle.Version{needle.Version1, needle.Version2, needle.Version3} {
		f, err := os.CreateTemp("", "needles-*.dat")
		check(err)
		defer os.Remove(f.Name())
		file := backend.NewDiskFile(f)
		for i, s := range needleSpecs() {
			n := &needle.Needle{Cookie: types.Cookie(s.cookie), Id: types.NeedleId(s.id), Data: s.data, Flags: s.flags,
				Name: s.name, Mime: s.mime, LastModified: s.lastModified, Ttl: s.ttl, Pairs: s.pairs}
			n.PairsSize = uint16(len(s.pairs))
			if n.Ttl == nil {
				n.Ttl = needle.EMPTY_TTL
			}
			n.Checksum = needle.NewCRC(s.data)
			if s.checksum != nil {
				n.Checksum = needle.CRC(*s.checksum)
			}
			n.AppendAtNs = 1700000000123456789 + uint64(i)
			offset, _, _, err := n.Append(file, version)
			check(err)
			// Append's own size result leaves out v1's checksum and padding: use the record's.
			record := make([]byte, needle.GetActualSize(n.Size, version))
			_, err = f.ReadAt(record, int64(offset))
			check(err)
			ttl := n.Ttl
			out = append(out, needleVector{Label: s.label, Version: int(version), Cookie: s.cookie,
				Id: fmt.Sprintf("%x", s.id), Data: hex.EncodeToString(s.data), Flags: int(s.flags),
				Name: hex.EncodeToString(s.name), Mime: hex.EncodeToString(s.mime), LastModified: s.lastModified,
				TtlCount: int(ttl.Count), TtlUnit: int(ttl.Unit), Pairs: hex.EncodeToString(s.pairs),
				AppendAtNs: fmt.Sprint(n.AppendAtNs), Checksum: uint32(n.Checksum), Size: int32(n.Size),
				Record: hex.EncodeToString(record)})
		}
		file.Close()
	}
	writeJSON(dir, "needles.json", out)
}

type ttlVector struct {
	Input    string `json:"input"`
	Count    int    `json:"count"`
	Unit     int    `json:"unit"`
	Error    string `json:"error"`
	Minutes  uint32 `json:"minutes"`
	String   string `json:"string"`
	Uint32   uint32 `json:"uint32"`
	Seconds  uint64 `json:"seconds"`
	Readable string `json:"secondsToTtl"`
}

func ttlVectors(dir string) {
	inputs := []string{"", "0", "9", "8m", "5h", "5d", "50d", "365d", "730d", "5w", "5M", "5y", "60m", "120m",
		"1440m", "300m", "255m", "256m", "1000m", "24h", "7d", "14d", "30d", "12M", "256d", "-5m", "x", "5x",
		"+3m", "3 m", " 3m", "99999999999999999999m", "4294967296m", "0x10m", "1.5h", "m", "255y", "256y",
		"1000y", "9999w", "60", "0m", "0y", "100000d", "-0m", "03h"}
	var out []ttlVector
	for _, in := range inputs {
		ttl, err := needle.ReadTTL(in)
		out = append(out, ttlVector{Input: in, Count: int(ttl.Count), Unit: int(ttl.Unit), Error: errText(err),
			Minutes: ttl.Minutes(), String: ttl.String(), Uint32: ttl.ToUint32(), Seconds: ttl.ToSeconds(),
			Readable: needle.SecondsToTTL(int32(ttl.ToSeconds()))})
	}
	writeJSON(dir, "ttl.json", out)
}

type fileIdVector struct {
	Input    string `json:"input"`
	VolumeId uint32 `json:"volumeId"`
	Key      string `json:"key"`
	Cookie   uint32 `json:"cookie"`
	Error    string `json:"error"`
	Format   string `json:"format"`
}

type pathVector struct {
	Input  string `json:"input"`
	Key    string `json:"key"`
	Cookie uint32 `json:"cookie"`
	Error  string `json:"error"`
}

type formatVector struct {
	VolumeId   uint32 `json:"volumeId"`
	Key        string `json:"key"`
	Cookie     uint32 `json:"cookie"`
	FileId     string `json:"fileId"`
	KeyFileId  string `json:"keyFileId"`
	NeedleId   string `json:"needleIdString"`
	ParseError string `json:"parseError"`
}

func fileIdVectors(dir string) {
	fids := []string{"100,12345678", "100, 12345678", "100,123456789", "100,123456789012345678901234",
		"100,abcd0000abcd", "100,1234567890123456789012345", "3,0100000000", ",0100000000", "abc,0100000000",
		"4294967296,0100000000", "4294967297,0100000000", "18446744073709551615,0100000000",
		"18446744073709551616,0100000000", "-1,0100000000", "+1,0100000000", "100,ABCDEF0123456789",
		"100,0x1234567890", "100,g23456789", "1,01637037d6", "100,00000000000000000100000000", "100", "100,",
		"1,0000000000000000000000ff", "1,ffffffffffffffffffffffff", "1,1_00000000", "1 ,0100000000",
		"1,01637037d6,2", "007,0100000000", "1,+0100000000", "1,-100000000", "1,12345678_", "1,abc"}
	var out []fileIdVector
	for _, in := range fids {
		v := fileIdVector{Input: in}
		if fid, err := needle.ParseFileIdFromString(in); err != nil {
			v.Error = err.Error()
		} else {
			v.VolumeId, v.Key, v.Cookie, v.Format = uint32(fid.VolumeId), fmt.Sprintf("%x", uint64(fid.Key)), uint32(fid.Cookie), fid.String()
		}
		out = append(out, v)
	}
	writeJSON(dir, "file-ids.json", out)

	paths := []string{"01637037d6", "01637037d6_1", "01637037d6_", "01637037d6_x", "ffffffffffffffff00000000_1",
		"fffffffffffffffe00000000_1", "01637037d6_18446744073709551615", "_01637037d6", "1234", "123456789",
		"0123456789_5", "01637037d6_0_3", "01637037d6_-1", "01637037d6_+1", "12345678_9", "4ed4c8116e41",
		"ed400116e41", "helloworld", "4ed4c8114ed4c8114ed4c8111", "01637037d6.jpg"}
	var pout []pathVector
	for _, in := range paths {
		v := pathVector{Input: in}
		var n needle.Needle
		if err := n.ParsePath(in); err != nil {
			v.Error = err.Error()
		} else {
			v.Key, v.Cookie = fmt.Sprintf("%x", uint64(n.Id)), uint32(n.Cookie)
		}
		pout = append(pout, v)
	}
	writeJSON(dir, "needle-paths.json", pout)

	var fout []formatVector
	for _, c := range []struct {
		vid    uint32
		key    uint64
		cookie uint32
	}{{1, 0, 0}, {1, 1, 2}, {7, 0x100, 0}, {3, 0x123, 0xdeadbeef}, {4294967295, 0xfedcba9876543210, 0xffffffff},
		{9, 0x01637037, 0x0000d6}, {10, 0xff00000000, 1}} {
		fid := needle.NewFileId(needle.VolumeId(c.vid), c.key, c.cookie)
		s := fid.String()
		_, perr := needle.ParseFileIdFromString(s)
		fout = append(fout, formatVector{VolumeId: c.vid, Key: fmt.Sprintf("%x", c.key), Cookie: c.cookie, FileId: s,
			KeyFileId: types.NeedleId(c.key).FileId(c.vid), NeedleId: types.NeedleId(c.key).String(), ParseError: errText(perr)})
	}
	writeJSON(dir, "file-id-format.json", fout)
}

type placementVector struct {
	Input  string `json:"input"`
	Byte   int    `json:"byte"`
	String string `json:"string"`
	Copies int    `json:"copies"`
	Error  string `json:"error"`
}

func placementVectors(dir string) {
	inputs := []string{"", "0", "1", "01", "001", "010", "100", "200", "002", "0001", "255", "256", "299", "abc",
		"-01", "0:0", "999", "12", "2", "0009", "00-", "000x"}
	var out []placementVector
	for _, in := range inputs {
		rp, err := super_block.NewReplicaPlacementFromString(in)
		v := placementVector{Input: in, Error: errText(err)}
		if err == nil {
			v.Byte, v.String, v.Copies = int(rp.Byte()), rp.String(), rp.GetCopyCount()
		}
		out = append(out, v)
	}
	writeJSON(dir, "replica-placement.json", out)
}

type superBlockVector struct {
	Label              string `json:"label"`
	Version            int    `json:"version"`
	Replication        string `json:"replication"`
	Ttl                string `json:"ttl"`
	CompactionRevision int    `json:"compactionRevision"`
	Bytes              string `json:"bytes"`
	BlockSize          int    `json:"blockSize"`
}

func superBlockVectors(dir string) {
	var out []superBlockVector
	for _, c := range []struct {
		label, rp, ttl string
		version        needle.Version
		rev            uint16
		extra          *master_pb.SuperBlockExtra
	}{
		{"plain v3", "000", "", 3, 0, nil},
		{"v2 with ttl", "010", "3d", 2, 7, nil},
		{"v1", "200", "5m", 1, 65535, nil},
		{"v3 with extra", "002", "1y", 3, 1, &master_pb.SuperBlockExtra{ErasureCoding: &master_pb.SuperBlockExtra_ErasureCoding{Data: 10, Parity: 4, VolumeIds: []uint32{1, 300}}}},
	} {
		rp, err := super_block.NewReplicaPlacementFromString(c.rp)
		check(err)
		ttl, err := needle.ReadTTL(c.ttl)
		check(err)
		sb := super_block.SuperBlock{Version: c.version, ReplicaPlacement: rp, Ttl: ttl, CompactionRevision: c.rev, Extra: c.extra}
		b := sb.Bytes()
		out = append(out, superBlockVector{Label: c.label, Version: int(c.version), Replication: c.rp, Ttl: c.ttl,
			CompactionRevision: int(c.rev), Bytes: hex.EncodeToString(b), BlockSize: sb.BlockSize()})
	}
	writeJSON(dir, "super-blocks.json", out)
}

func volumeInfoVectors(dir string) {
	tmp, err := os.MkdirTemp("", "vif")
	check(err)
	defer os.RemoveAll(tmp)
	infos := map[string]*volume_server_pb.VolumeInfo{
		"empty": {},
		"full": {
			Files:       []*volume_server_pb.RemoteFile{{BackendType: "s3", BackendId: "default", Key: "k/1.dat", Offset: 1, FileSize: 2, ModifiedTime: 3, Extension: ".dat"}},
			Version:     3, Replication: "010", BytesOffset: 5, DatFileSize: 123456789012, ExpireAtSec: 1700000000,
			ReadOnly: true, EcShardConfig: &volume_server_pb.EcShardConfig{DataShards: 10, ParityShards: 4, EncodeTsNs: 1700000000123456789, BlockSize: 1024},
			ReadOnlyCanDelete: true,
		},
		"local": {Version: 3, Replication: "000", BytesOffset: 4, ReadOnly: true},
	}
	out := map[string]string{}
	for name, info := range infos {
		p := filepath.Join(tmp, name+".vif")
		check(volume_info.SaveVolumeInfo(p, info))
		b, err := os.ReadFile(p)
		check(err)
		out[name] = string(b)
	}
	// What the loader makes of other spellings.
	parsed := map[string]any{}
	for name, text := range map[string]string{
		"proto names":  `{"bytes_offset":5,"read_only":true,"dat_file_size":"12","expire_at_sec":7,"version":3}`,
		"old version":  `{"version":3,"BytesOffset":5,"DestroyTime":"99","read_only":true,"replication":"001"}`,
		"quoted ints":  `{"version":"3","bytesOffset":"5"}`,
		"unknown":      `{"version":3,"bogus":1}`,
		"garbage":      `not json`,
		"null message": `{"ecShardConfig":null,"files":null}`,
		"wrong type":   `{"readOnly":"yes"}`,
	} {
		p := filepath.Join(tmp, "x.vif")
		check(os.WriteFile(p, []byte(text), 0o644))
		info, hasRemote, found, err := volume_info.MaybeLoadVolumeInfo(p)
		parsed[name] = map[string]any{"input": text, "error": errText(err), "hasRemote": hasRemote, "found": found,
			"version": info.Version, "bytesOffset": info.BytesOffset, "readOnly": info.ReadOnly,
			"datFileSize": info.DatFileSize, "expireAtSec": info.ExpireAtSec, "replication": info.Replication}
	}
	writeJSON(dir, "volume-info.json", map[string]any{"written": out, "parsed": parsed})
}

// goVolume writes a small volume through SeaweedFS's Store: writes, an overwrite, deletes.
func goVolume(dir string) {
	tmp, err := os.MkdirTemp("", "vol")
	check(err)
	defer os.RemoveAll(tmp)
	store := storage.NewStore(nil, "localhost", 8080, 18080, "http://localhost:8080", "store-id",
		[]string{tmp}, []int32{10}, []util.MinFreeSpace{{}}, "", storage.NeedleMapInMemory,
		[]types.DiskType{types.HardDriveType}, nil, 0, stats.DefaultDiskIOProbeConfig())
	check(store.AddVolume(7, "pics", storage.NeedleMapInMemory, "001", "", 0, needle.GetCurrentVersion(), 0, types.HardDriveType, 0))
	write := func(key uint64, cookie uint32, data string, name string) {
		n := &needle.Needle{Id: types.NeedleId(key), Cookie: types.Cookie(cookie), Data: []byte(data), Name: []byte(name),
			Mime: []byte("text/plain"), LastModified: 1700000000, Ttl: needle.EMPTY_TTL}
		n.SetHasName()
		n.SetHasMime()
		n.SetHasLastModifiedDate()
		n.Checksum = needle.NewCRC(n.Data)
		_, err := store.WriteVolumeNeedle(7, n, true, false)
		check(err)
	}
	del := func(key uint64, cookie uint32) {
		n := &needle.Needle{Id: types.NeedleId(key), Cookie: types.Cookie(cookie)}
		_, err := store.ReadVolumeNeedle(7, n, nil, nil)
		check(err)
		n.Data = nil
		_, err = store.DeleteVolumeNeedle(7, n)
		check(err)
	}
	for k := uint64(1); k <= 10; k++ {
		write(k, uint32(0x1000+k), strings.Repeat(fmt.Sprint(k), int(k)*3), fmt.Sprintf("f%d.txt", k))
	}
	write(3, 0x1003, "overwritten", "f3b.txt")
	del(5, 0x1005)
	del(10, 0x100a)
	write(11, 0x100b, "", "empty.txt")
	v := store.GetVolume(7)
	stats := map[string]any{"fileCount": v.FileCount(), "deletedCount": v.DeletedCount(), "contentSize": v.ContentSize(),
		"deletedSize": v.DeletedSize(), "maxFileKey": uint64(v.MaxFileKey()), "offsetSize": types.OffsetSize}
	store.Close()
	name := fmt.Sprintf("go-volume-%dbyte", types.OffsetSize)
	for _, ext := range []string{".dat", ".idx", ".vif"} {
		b, err := os.ReadFile(filepath.Join(tmp, "pics_7"+ext))
		check(err)
		check(os.WriteFile(filepath.Join(dir, name+ext), b, 0o644))
	}
	writeJSON(dir, name+".json", stats)
}

// mapStats loads SeaweedFS's own .idx fixtures into Go's memory needle map and records its counters.
func mapStats(dir, fixtures string) {
	names := []string{"test_files--healthy_volume.idx", "test_files--bitrot_volume.idx", "erasure_coding--1.idx",
		"idx--test_files--simple_index.idx", "idx--test_files--deleted_files.idx"}
	if types.OffsetSize == 5 {
		names = []string{"testdata-187.idx"}
	}
	out := map[string]any{}
	for _, name := range names {
		f, err := os.Open(filepath.Join(fixtures, name))
		check(err)
		nm, err := storage.LoadCompactNeedleMap(f, needle.Version3)
		check(err)
		out[name] = map[string]any{"fileCount": nm.FileCount(), "deletedCount": nm.DeletedCount(),
			"contentSize": nm.ContentSize(), "deletedSize": nm.DeletedSize(), "maxFileKey": fmt.Sprint(uint64(nm.MaxFileKey())),
			"maxNeedleEnd": nm.MaxNeedleEnd()}
		f.Close()
	}
	writeJSON(dir, fmt.Sprintf("map-stats-%dbyte.json", types.OffsetSize), out)
}

func main() {
	dir := os.Args[1]
	if len(os.Args) > 2 {
		mapStats(dir, os.Args[2])
	}
	if types.OffsetSize == 4 {
		needleVectors(dir)
		ttlVectors(dir)
		fileIdVectors(dir)
		placementVectors(dir)
		superBlockVectors(dir)
		volumeInfoVectors(dir)
	}
	goVolume(dir)
}
