package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/mail"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func TestSendThroughARealServer(t *testing.T) {
	srv := testutil.PrivateSMTP(t)
	m, err := mail.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body := "Hej Åsa!\n.\nA line of one dot, which must not end the message.\nSista raden."
	if err := m.Send(context.Background(), "asa@example.se", "Inbjudan till Kafé", body); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.Mail(), "Sista raden.") {
		if time.Now().After(deadline) {
			t.Fatalf("the message did not arrive whole; the server printed:\n%s", srv.Mail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := srv.Mail()
	for _, want := range []string{"From: samtycke@example.se", "To: asa@example.se", "Subject: =?utf-8?q?Inbjudan_till_Kaf=C3=A9?=",
		"Content-Type: text/plain; charset=utf-8", "A line of one dot"} {
		if !strings.Contains(got, want) {
			t.Errorf("message lacks %q:\n%s", want, got)
		}
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	m, err := mail.Parse("smtp://127.0.0.1:1?from=a@example.se")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), "a@example.se\r\nBcc: b@example.se", "x", "y"); err == nil {
		t.Fatal("a recipient with a line break was accepted")
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"http://mail.example.se", "smtp://", "smtp://mail.example.se", "smtp://mail.example.se?from=nobody"} {
		if _, err := mail.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	m, err := mail.Parse("smtps://u:p@mail.example.se?from=Samtycke+%3Cnoreply@example.se%3E")
	if err != nil {
		t.Fatal(err)
	}
	if m.From() != "noreply@example.se" {
		t.Errorf("From = %q", m.From())
	}
}
