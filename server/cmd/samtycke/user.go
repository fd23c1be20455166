package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/service"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

const userSummary = `Manages dashboard accounts.

  samtycke user add [--site S --role owner|editor|auditor] EMAIL
  samtycke user passwd EMAIL
  samtycke user remove EMAIL
  samtycke user list

The password comes from the environment variable SAMTYCKE_PASSWORD or from
--password-file (first line), never from the command line, where other users
of the machine could read it. passwd and remove end the account's sessions
in the shared Redis (with SAMTYCKE_REDIS_URL=none, at their idle timeout).`

func runUser(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "user", userSummary)
	site := fs.String("site", "", "add: also give the account a role on this site")
	role := fs.String("role", "owner", "add: the role on --site")
	pwFile := fs.String("password-file", "", "read the password from this file's first line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return errUsage
	}
	verb, rest := rest[0], rest[1:]
	want := map[string]int{"add": 1, "passwd": 1, "remove": 1, "list": 0}
	n, ok := want[verb]
	if !ok || len(rest) != n {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	log := newLogger(env, cfg)
	st, err := clickhouse.Open(ctx, cfg.ClickHouseURL, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	// Sessions live in the servers' Redis, under the same prefix as theirs.
	var sessions *auth.Sessions
	if cfg.RedisEnabled() {
		rc, err := redis.Open(cfg.RedisURL, "samtycke:"+st.Database()+":")
		if err != nil {
			return err
		}
		defer rc.Close()
		sessions = auth.NewSessions(rc, service.SessionIdle, service.SessionAbsolute)
	}
	// The CLI does not publish; it only needs the store.
	m := manage.New(st, siteconfig.NewPublisher(siteconfig.NewProvider(st, nil, time.Second, log), nil, log), sessions, nil, log)
	by := manage.Principal{Email: "cli"}
	password := func() (string, error) {
		if *pwFile != "" {
			b, err := os.ReadFile(*pwFile)
			if err != nil {
				return "", err
			}
			line, _, _ := strings.Cut(string(b), "\n")
			return strings.TrimRight(line, "\r"), nil
		}
		if p := env.getenv("SAMTYCKE_PASSWORD"); p != "" {
			return p, nil
		}
		return "", fmt.Errorf("give the password in SAMTYCKE_PASSWORD or with --password-file")
	}
	switch verb {
	case "list":
		return listUsers(ctx, env, st, m)
	case "remove":
		if err := m.RemoveUser(ctx, by, rest[0]); err != nil {
			return describe(err, rest[0])
		}
		fmt.Fprintf(env.stdout, "removed %s\n", rest[0])
		return nil
	}
	pw, err := password()
	if err != nil {
		return err
	}
	if verb == "passwd" {
		if err := m.SetPassword(ctx, by, rest[0], pw); err != nil {
			return describe(err, rest[0])
		}
		fmt.Fprintf(env.stdout, "password of %s changed\n", rest[0])
		return nil
	}
	if err := m.AddUser(ctx, by, rest[0], pw); err != nil {
		return describe(err, rest[0])
	}
	fmt.Fprintf(env.stdout, "added %s\n", rest[0])
	if *site != "" {
		if _, err := m.Site(ctx, *site); err != nil {
			return describe(err, *site)
		}
		if _, err := m.PutMember(ctx, by, *site, rest[0], manage.Role(*role), ""); err != nil {
			return describe(err, *site)
		}
		fmt.Fprintf(env.stdout, "%s is %s of %s\n", rest[0], *role, *site)
	}
	return nil
}

func describe(err error, what string) error {
	if manage.IsNotFound(err) {
		return fmt.Errorf("%s: not found", what)
	}
	return err
}

func listUsers(ctx context.Context, env *environment, st *clickhouse.Store, m *manage.Manager) error {
	users, err := m.Users(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tCREATED\tSITES")
	for _, u := range users {
		ms, err := st.Memberships(ctx, u.Email)
		if err != nil {
			return err
		}
		var roles []string
		for _, mb := range ms {
			roles = append(roles, mb.Site+" ("+string(mb.Role)+")")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", u.Email, u.CreatedAt.UTC().Format(time.DateOnly), strings.Join(roles, ", "))
	}
	return w.Flush()
}
