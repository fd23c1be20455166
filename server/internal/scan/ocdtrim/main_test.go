package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrim(t *testing.T) {
	in := "\ufeffID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\n" +
		"1,Google Analytics,Analytics,_ga_,,\"ID used to\n identify users\",2 years,Google,https://x/,1\n" +
		"2,Bing / Microsoft,Marketing,MUID,.bing.com (3rd party) or .microsoft.com (3rd party),Identifies browsers,1 year,Microsoft,https://y/,0\n" +
		"3,Odd,Functional,SSPR_*,,Wildcard written as a star,session,Odd,,0\n" +
		"4,Odd,Functional,pagead/conv/%INTEGER%,,A placeholder,session,Odd,,0\n" +
		"5,Odd,Functional,\u00adsoft\u00ad,Inspectlet.com (3rd party),Soft hyphens,session,Odd,,0\n" +
		"6,Google Analytics,Analytics,_ga_,,A duplicate,2 years,Google,https://x/,1\n"
	dir := t.TempDir()
	src := filepath.Join(dir, "in.csv")
	lic := filepath.Join(dir, "LICENSE")
	if err := os.WriteFile(src, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lic, []byte("Apache License\nVersion 2.0, January 2004\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(src, lic, "abc123", "2026-01-21", dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, dataFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "name,wildcard,domains,platform,category,controller,retention,description\n" +
		"_ga_,1,,Google Analytics,Analytics,Google,2 years,ID used to identify users\n" +
		"MUID,0,bing.com microsoft.com,Bing / Microsoft,Marketing,Microsoft,1 year,Identifies browsers\n" +
		"SSPR_,1,,Odd,Functional,Odd,session,Wildcard written as a star\n" +
		"soft,0,inspectlet.com,Odd,Functional,Odd,session,Soft hyphens\n"
	if string(got) != want {
		t.Errorf("trimmed:\n%s\nwant:\n%s", got, want)
	}
	notice, err := os.ReadFile(filepath.Join(dir, "NOTICE"))
	if err != nil || !strings.Contains(string(notice), "commit abc123 of 2026-01-21") || !strings.Contains(string(notice), "4 rows") {
		t.Errorf("NOTICE: %v\n%s", err, notice)
	}
	// Another licence stops the refresh: shipping the data rests on it.
	if err := os.WriteFile(lic, []byte("All rights reserved\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(src, lic, "abc123", "2026-01-21", dir); err == nil || !strings.Contains(err.Error(), "no longer the Apache License") {
		t.Errorf("another licence: %v", err)
	}
}
