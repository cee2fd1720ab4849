package cmdutil

import (
	"runtime"
	"runtime/debug"
)

// BuildVersion is the version of the running binary: set (the release's,
// from -ldflags -X), else the module version `go install` recorded, else
// "dev".
func BuildVersion(set string) string {
	if set != "" {
		return set
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// VersionInfo is what `ddbops version` prints.
type VersionInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// NewVersionInfo describes version built by this toolchain for this
// platform.
func NewVersionInfo(version string) VersionInfo {
	return VersionInfo{Version: version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
}

func (v VersionInfo) String() string {
	return v.Version + " (" + v.Go + " " + v.OS + "/" + v.Arch + ")"
}
