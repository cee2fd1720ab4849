package client

import (
	"strings"
	"testing"
)

func TestParseAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    string // the object as JSON
		wantErr string
	}{
		{args: []string{"name=Bob"}, want: `{"name":"Bob"}`},
		{args: []string{"name="}, want: `{"name":""}`},
		{args: []string{"eq=a=b"}, want: `{"eq":"a=b"}`},
		{args: []string{"url=http://x:1/?a=b"}, want: `{"url":"http://x:1/?a=b"}`},
		{args: []string{"age:=42"}, want: `{"age":42}`},
		{args: []string{"n:=1.50"}, want: `{"n":1.50}`},
		{args: []string{"big:=123456789012345678901234567890"}, want: `{"big":123456789012345678901234567890}`},
		{args: []string{"e:=1e400"}, want: `{"e":1e400}`},
		{args: []string{`tags:=["a", "b"]`}, want: `{"tags":["a","b"]}`},
		{args: []string{`o:= {"k": {"n": null}} `}, want: `{"o":{"k":{"n":null}}}`},
		{args: []string{"ok:=true", "s:=\"x\""}, want: `{"ok":true,"s":"x"}`},
		{args: []string{`a\=b=c`}, want: `{"a=b":"c"}`},
		{args: []string{`a\:=b`}, want: `{"a:":"b"}`},
		{args: []string{`time:x=1`}, want: `{"time:x":"1"}`},
		{args: []string{`a\\=b`}, want: `{"a\\":"b"}`},
		{args: []string{"b=2", "a=1"}, want: `{"b":"2","a":"1"}`},
		{args: []string{"msg=<b>&"}, want: `{"msg":"<b>&"}`},
		{args: []string{"unicode=żółw ✓"}, want: `{"unicode":"żółw ✓"}`},
		{args: nil, want: `{}`},
		{args: []string{"Bob"}, wantErr: "want NAME=STRING or NAME:=JSON"},
		{args: []string{""}, wantErr: "want NAME=STRING or NAME:=JSON"},
		{args: []string{"=Bob"}, wantErr: "empty name"},
		{args: []string{":=1"}, wantErr: "empty name"},
		{args: []string{"age:=4x"}, wantErr: "not valid JSON"},
		{args: []string{"age:="}, wantErr: "not valid JSON"},
		{args: []string{"name:=Bob"}, wantErr: "use name=VALUE for a string"},
		{args: []string{"a=1", "a:=2"}, wantErr: `"a": given twice`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			obj, err := ParseAttributes(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := obj.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// An error about a bad value names the attribute, never the value (it may
// be item data).
func TestParseAttributeErrorsHideValues(t *testing.T) {
	t.Parallel()
	_, _, err := ParseAttribute("secret:=hunter2-not-json")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v", err)
	}
	_, _, err = ParseAttribute("=hunter2")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}
