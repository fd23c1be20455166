package auth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// commonPasswords is a list of the passwords people use most (data/NOTICE
// says where it comes from; .ci/refresh-common-passwords refreshes it),
// lowercased, one a line, gzipped.
//
//go:embed data/common-passwords.txt.gz
var commonPasswordsGz []byte

var (
	commonOnce sync.Once
	common     map[string]bool
)

func commonSet() map[string]bool {
	commonOnce.Do(func() {
		common = map[string]bool{}
		zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
		if err != nil {
			panic("auth: common passwords: " + err.Error()) // embedded: a broken file fails every test
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			if w := strings.TrimSpace(sc.Text()); w != "" {
				common[w] = true
			}
		}
		if err := sc.Err(); err != nil {
			panic("auth: common passwords: " + err.Error())
		}
	})
	return common
}

// CheckPasswordStrength refuses a password shorter than MinPasswordLen, one
// on the list of common passwords, and one that is only a common password
// (or a run of few distinct characters) repeated, or with digits and
// punctuation around it: "password1234", "Summer2024!!!", "aaaaaaaaaaaa",
// "qwertyqwerty". The length rule alone lets all of those through.
func CheckPasswordStrength(password string) error {
	if len([]rune(password)) < MinPasswordLen {
		return ErrWeakPassword
	}
	p := strings.ToLower(password)
	set := commonSet()
	for _, cand := range []string{p, strings.TrimFunc(p, notLetter), period(p), period(strings.TrimFunc(p, notLetter))} {
		if set[cand] || distinct(cand) < 4 {
			return ErrCommonPassword
		}
	}
	return nil
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// period returns the shortest unit that s repeats ("abcabcabc" → "abc"),
// or s itself.
func period(s string) string {
	for n := 1; n <= len(s)/2; n++ {
		if len(s)%n == 0 && strings.Repeat(s[:n], len(s)/n) == s {
			return s[:n]
		}
	}
	return s
}

func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}
