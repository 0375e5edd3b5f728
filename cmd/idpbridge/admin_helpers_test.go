package main

import "testing"

// addUsers creates local accounts through the CLI, all with password:
// each user is its name followed by `user add` flags (--group, --attr).
func addUsers(t *testing.T, c *cli, path, password string, users ...[]string) {
	t.Helper()
	for _, u := range users {
		args := append([]string{"user", "add", u[0], "--password-stdin", "--config", path}, u[1:]...)
		if out, stderr, code := c.run(password+"\n", args...); code != 0 {
			t.Fatalf("user add %s: exit %d: %s %s", u[0], code, out, stderr)
		}
	}
}
