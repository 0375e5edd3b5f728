package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"idpbridge/idp/policy/simulate"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/sts"
	"idpbridge/idp/web"
)

// mountAdminSTS mounts the console's STS tools behind the admin guard:
// POST /admin/api/policy/validate (the JSON policy editor's check as you
// type), the STS directory at GET /admin/sts with a page per role at
// GET /admin/sts/roles/{account}/{role}, and the policy simulator at
// GET and POST /admin/simulator. The directory is the sts section of cfg
// (read-only in the console), with the ARNs of svc's directory.
func (m *Main) mountAdminSTS(cfg *Config, srv *web.Server, webp *webParts, svc *sts.Service) {
	srv.Handle("POST /admin/api/policy/validate", webp.IdP.AdminAPI(simulate.ValidateAPI()))
	dir := stsDirectoryPage(cfg, m.configPath, svc.Directory())
	list, role := webp.IdP.AdminSTSPages(dir)
	srv.Handle("GET /admin/sts", list)
	srv.Handle("GET /admin/sts/roles/{account}/{role}", role)
	roles, users := map[string][]string{}, map[string][]string{}
	for _, a := range dir.Accounts {
		for _, r := range a.Roles {
			roles[a.ID] = append(roles[a.ID], r.Name)
		}
		for _, u := range a.Users {
			users[a.ID] = append(users[a.ID], u.Name)
		}
	}
	opt := web.SimulatorOptions{Principals: stsPrincipals{svc.Directory()}, Choices: web.SimulatorChoices(roles, users)}
	srv.Handle("GET /admin/simulator", webp.IdP.AdminSimulatorPage(opt))
	srv.Handle("POST /admin/simulator", webp.IdP.AdminSimulatorRun(opt))
}

// stsDirectoryPage describes the sts section for the console: every
// account in configuration order, its roles and users by name, their
// policies as indented JSON with where each is written.
func stsDirectoryPage(cfg *Config, configPath string, dir *sts.Directory) web.STSDirectoryPage {
	source := "the sts section of the configuration file"
	if configPath != "" {
		source = "the sts section of " + configPath
	}
	if cfg.Demo {
		source += " (with the demo account of sts.demo)"
	}
	page := web.STSDirectoryPage{Source: source, Region: dir.Region}
	for _, ac := range cfg.STS.Accounts {
		a, ok := dir.Account(ac.ID)
		if !ok {
			continue
		}
		av := web.STSAccountView{ID: ac.ID}
		for _, pc := range ac.SAMLProviders {
			v := web.STSProviderView{Name: pc.Name}
			if p, ok := a.SAMLProviders[pc.Name]; ok {
				v.ARN = p.ARN
			}
			switch {
			case pc.Metadata != "":
				v.Metadata = "metadata: " + pc.Metadata
			case pc.MetadataFile != "":
				v.Metadata = "metadata_file " + pc.MetadataFile
			default:
				v.Metadata = "metadata_url " + pc.MetadataURL
			}
			av.SAMLProviders = append(av.SAMLProviders, v)
		}
		for _, p := range a.OIDCProviders {
			v := web.STSOIDCView{URL: p.URL, ARN: p.ARN, ClientIDs: p.ClientIDs, Keys: "the issuer's discovery document"}
			for _, oc := range ac.OIDCProviders {
				if strings.TrimSuffix(oc.URL, "/") == strings.TrimSuffix(p.URL, "/") && oc.JWKSFile != "" {
					v.Keys = "jwks_file " + oc.JWKSFile
				}
			}
			av.OIDCProviders = append(av.OIDCProviders, v)
		}
		for _, uc := range ac.Users {
			u, ok := a.Users[uc.Name]
			if !ok {
				continue
			}
			v := web.STSUserView{Name: u.Name, ARN: u.ARN}
			for _, k := range uc.AccessKeys {
				v.AccessKeyIDs = append(v.AccessKeyIDs, k.ID)
			}
			for _, pc := range uc.Policies {
				v.Policies = append(v.Policies, policyView(pc.Name, "identity", pc.Document, pc.DocumentFile))
			}
			av.Users = append(av.Users, v)
		}
		for _, rc := range ac.Roles {
			r, ok := a.Roles[rc.Name]
			if !ok {
				continue
			}
			v := web.STSRoleView{Account: ac.ID, Name: r.Name, ARN: r.ARN, MaxSession: fmt.Sprintf("%d seconds", int(r.MaxSessionDuration.Seconds()))}
			for _, t := range r.Tags {
				v.Tags = append(v.Tags, t.Key+"="+t.Value)
			}
			v.Trust = policyView("trust_policy", "trust", rc.TrustPolicy, rc.TrustPolicyFile)
			for _, pc := range rc.Policies {
				v.Policies = append(v.Policies, policyView(pc.Name, "identity", pc.Document, pc.DocumentFile))
			}
			av.Roles = append(av.Roles, v)
		}
		sort.Slice(av.Roles, func(i, j int) bool { return av.Roles[i].Name < av.Roles[j].Name })
		sort.Slice(av.Users, func(i, j int) bool { return av.Users[i].Name < av.Users[j].Name })
		page.Accounts = append(page.Accounts, av)
	}
	return page
}

// policyView is a policy's text for the editor: the file's content as
// written, or the inline document as indented JSON.
func policyView(name, kind string, doc sts.PolicyDocument, file string) web.STSPolicyView {
	v := web.STSPolicyView{Name: name, Kind: kind}
	var raw []byte
	var err error
	if file != "" {
		v.Source = "from the file " + file
		raw, err = os.ReadFile(file)
	} else {
		v.Source = "inline in the configuration file"
		raw, err = doc.JSON()
	}
	if err != nil {
		v.Source += fmt.Sprintf(" (cannot be read now: %v)", err)
		return v
	}
	var buf bytes.Buffer
	if file == "" && json.Indent(&buf, raw, "", "  ") == nil {
		raw = buf.Bytes()
	}
	v.JSON = string(raw)
	return v
}

// storedProvidersReload is how often a replica re-reads the service
// providers added in the console, so that a change made on another
// replica takes effect without a restart.
const storedProvidersReload = 30 * time.Second

// mountAdminProviders loads the service providers added in the console
// into p's catalog, reloads them every storedProvidersReload until ctx
// ends, and mounts the console's service provider pages: GET
// /admin/providers, POST /admin/providers (add) and POST
// /admin/providers/{name}/delete, and GET /admin/api/service-providers
// (the list as JSON), whose changes are written with their
// audit records through trail in one transaction.
func (m *Main) mountAdminProviders(ctx context.Context, srv *web.Server, webp *webParts, p *sso.IdP, s store.Store, trail web.TxTrail, log *slog.Logger) {
	cat := p.Catalog()
	if err := cat.LoadStored(ctx, s); err != nil {
		log.Warn("stored service providers", "err", err)
	}
	reloadCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(storedProvidersReload)
		defer t.Stop()
		for {
			select {
			case <-reloadCtx.Done():
				return
			case <-t.C:
				if err := cat.LoadStored(reloadCtx, s); err != nil && reloadCtx.Err() == nil {
					log.Warn("stored service providers", "err", err)
				}
			}
		}
	}()
	m.onClose(func() error { stop(); <-done; return nil })
	list, add, del := webp.IdP.AdminProviderPages(web.ProvidersOptions{Catalog: cat, Store: s, Trail: trail})
	srv.Handle("GET /admin/providers", list)
	srv.Handle("POST /admin/providers", add)
	srv.Handle("POST /admin/providers/{name}/delete", del)
	srv.Handle("GET /admin/api/service-providers", webp.IdP.AdminAPI(webp.IdP.ServiceProvidersAPI(cat)))
}
