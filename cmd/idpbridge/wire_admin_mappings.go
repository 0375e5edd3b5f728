package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"

	"gopkg.in/yaml.v3"

	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/web"
)

// mountAdminMappings makes the SSO side use the console's mappings (the
// config file's overridden by name, reloaded when the store changes) and
// mounts the console's mapping pages and API:
//
//	GET  /admin/mappings                         the list
//	GET  /admin/mappings/new?name=               a new console mapping's editor
//	GET  /admin/mappings/{name}                  the editor (?user= previews, ?new=1 a new mapping)
//	POST /admin/mappings/{name}                  save, or the no-JS preview
//	POST /admin/mappings/{name}/rollback         roll back (version 0: the config file's)
//	POST /admin/mappings/{name}/copy             copy the config file's mapping to the console
//	GET  /admin/api/mappings                     list
//	GET  /admin/api/mappings/{name}              one, with its versions
//	PUT  /admin/api/mappings/{name}              save a version
//	POST /admin/api/mappings/{name}/rollback     roll back
//	POST /admin/api/mappings/preview             validate and apply to a person
func (m *Main) mountAdminMappings(ctx context.Context, cfg *Config, srv *web.Server, webp *webParts, s store.Store, ssoIdP *sso.IdP, log *slog.Logger) error {
	cat := ssoIdP.Catalog()
	reloader := cat.ConsoleMappings(s, sso.MappingReloaderOptions{Now: m.Now, Logger: log})
	if err := reloader.Reload(ctx); err != nil {
		return err
	}
	configMappings, err := m.configMappings(cfg)
	if err != nil {
		return err
	}
	c := &web.MappingConsole{
		Store:    s,
		Catalog:  cat,
		Reloader: reloader,
		People:   webp.People,
		LocalPeople: func(ctx context.Context) ([]string, error) {
			users, err := s.ListUsers(ctx)
			if err != nil {
				return nil, err
			}
			names := make([]string, len(users))
			for i, u := range users {
				names[i] = u.Username
			}
			return names, nil
		},
		Config: configMappings,
		Record: webp.IdP.AdminRecord,
		Now:    m.Now,
		Logger: log,
	}
	p := webp.IdP
	srv.Handle("GET /admin/mappings", p.AdminPage("mappings", "admin_mappings", c.ListPage))
	srv.Handle("GET /admin/mappings/new", c.NewMappingForm(p))
	srv.Handle("GET /admin/mappings/{name}", p.AdminPage("mappings", "admin_mappings_edit", c.EditorPage))
	srv.Handle("POST /admin/mappings/{name}", c.EditorForm(p))
	srv.Handle("POST /admin/mappings/{name}/rollback", p.AdminAction(c.RollbackForm))
	srv.Handle("POST /admin/mappings/{name}/copy", p.AdminAction(c.CopyForm))
	srv.Handle("GET /admin/api/mappings", p.AdminAPI(c.List))
	srv.Handle("GET /admin/api/mappings/{name}", p.AdminAPI(c.Get))
	srv.Handle("PUT /admin/api/mappings/{name}", p.AdminAPI(c.Put))
	srv.Handle("POST /admin/api/mappings/{name}/rollback", p.AdminAPI(c.Rollback))
	srv.Handle("POST /admin/api/mappings/preview", p.AdminAPI(c.PreviewMapping))
	return nil
}

// configMappings are the mappings in effect from the config file, each
// with the file and line of its entry and its YAML; the built-in default
// mapping has no file.
func (m *Main) configMappings(cfg *Config) ([]web.ConfigMapping, error) {
	lines := map[string]int{}
	if m.configPath != "" {
		raw, err := os.ReadFile(m.configPath)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", m.configPath, err)
		}
		lines = mappingLines(raw)
	}
	_, ms := cfg.ssoConfig()
	out := make([]web.ConfigMapping, 0, len(ms))
	for _, mc := range ms {
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(mc); err != nil {
			return nil, fmt.Errorf("mapping %q: %w", mc.Name, err)
		}
		enc.Close()
		cm := web.ConfigMapping{Name: mc.Name, Body: b.String()}
		if l, ok := lines[mc.Name]; ok {
			cm.File, cm.Line = m.configPath, l
		}
		out = append(out, cm)
	}
	return out, nil
}

// mappingLines finds the line of each entry of the config file's
// mappings list, by name.
func mappingLines(raw []byte) map[string]int {
	out := map[string]int{}
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return out
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "mappings" || top.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range top.Content[i+1].Content {
			if item.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(item.Content); j += 2 {
				if item.Content[j].Value == "name" {
					out[item.Content[j+1].Value] = item.Line
				}
			}
		}
	}
	return out
}
