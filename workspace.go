package stormwatch

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/stormwatch/stormwatch/internal/locale"
)

// Workspace is a tenant: one public status page with everything on it.
// Nothing crosses workspaces.
type Workspace struct {
	ID       string   `json:"id"`
	Slug     string   `json:"slug"`
	Name     string   `json:"name"`
	Timezone string   `json:"timezone"`
	Branding Branding `json:"branding"`
	// PublicAttackDetails lets automatic incidents name the attacked
	// address and the volume; off, public text names only the kind of
	// attack and the components.
	PublicAttackDetails bool `json:"public_attack_details"`
	// SubscribeChannels are the kinds of subscription the public page's
	// subscribe form offers: email and webhook by default, and the chat
	// tools' incoming webhooks (slack, discord, teams, mattermost,
	// rocketchat).
	SubscribeChannels []string `json:"subscribe_channels"`
	// MailFrom is the sender address of the workspace's mails (an address
	// on its own domain); empty: the operator's --mail-from.
	MailFrom string `json:"mail_from"`
	// Language is the page's default language (a code of the catalogue,
	// "" for English); a reader's Accept-Language or ?lang= picks another.
	Language string `json:"language"`
	// Access says who may read the page when it, or some of its
	// components, are private.
	Access    PageAccess `json:"access"`
	Revision  int64      `json:"revision"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// PageName names the workspace's page in mails, feeds and headings: the
// branding title when one is set, else the workspace's name.
func (w *Workspace) PageName() string {
	if w.Branding.PageTitle != "" {
		return w.Branding.PageTitle
	}
	return w.Name
}

// PageTitle is what the page calls itself in headings, tabs and feeds:
// the branding title exactly as set ("Acme Hosting Network Status"), or
// "<name> status" when none is set.
func (w *Workspace) PageTitle() string {
	if w.Branding.PageTitle != "" {
		return w.Branding.PageTitle
	}
	return w.Name + " status"
}

// PageAccess is who may read a private page, and the private components
// of a public one: visitors who give the password, readers of an
// invitation link, and visitors from the listed address ranges.
type PageAccess struct {
	// Private refuses the whole page (HTML, JSON, feeds, events, badges)
	// to visitors without access.
	Private bool `json:"private"`
	// HasPassword tells whether a password is set (the hash never leaves
	// the store).
	HasPassword bool `json:"has_password"`
	// IPRanges are prefixes (203.0.113.0/24, 2001:db8::/32) whose
	// visitors read the page without asking.
	IPRanges []string `json:"ip_ranges"`
	// PasswordHash is the password's argon2id hash.
	PasswordHash string `json:"-"`
	// Key signs readers' access cookies; a new key revokes them all.
	Key string `json:"-"`
}

// Restricted reports whether anything of the page needs access: the
// whole page, or the private components of a public one.
func (a *PageAccess) Restricted(components []Component) bool {
	if a.Private {
		return true
	}
	for _, c := range components {
		if c.Private {
			return true
		}
	}
	return false
}

// MinPagePasswordLen keeps a private page's password from being guessed
// within the access form's rate limit.
const MinPagePasswordLen = 10

// CheckPagePassword validates a new password of a private page.
func CheckPagePassword(field, password string) error {
	if n := len([]rune(password)); n < MinPagePasswordLen || n > 200 {
		return Invalid(field, "must be %d to 200 characters", MinPagePasswordLen)
	}
	return nil
}

// MaxIPRanges bounds a page's listed address ranges.
const MaxIPRanges = 100

// Branding is how a workspace's public page looks.
type Branding struct {
	PageTitle   string       `json:"page_title"`
	LogoURL     string       `json:"logo_url"`
	FaviconURL  string       `json:"favicon_url"`
	BrandColor  string       `json:"brand_color"`
	FooterLinks []FooterLink `json:"footer_links"`
	HideBadge   bool         `json:"hide_badge"`
}

// FooterLink is one link in the public page's footer.
type FooterLink struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// APIKey grants programmatic access to one workspace. Only a hash of the
// secret is kept; Prefix is the visible start of the key, to tell keys apart.
type APIKey struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"-"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"`
	Role        Role       `json:"role"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	RevokedAt   *time.Time `json:"revoked_at"`
}

// User is a person who signs in to the dashboard.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	// Operator users run the installation: they create workspaces. The
	// first owner, made at setup, is one.
	Operator  bool      `json:"operator"`
	CreatedAt time.Time `json:"created_at"`
}

// Membership gives a user a role in a workspace.
type Membership struct {
	WorkspaceID string    `json:"workspace_id"`
	UserID      string    `json:"user_id"`
	Role        Role      `json:"role"`
	CreatedAt   time.Time `json:"created_at"`
}

// MailDomain is the domain of the workspace's own sender address ("" when
// it sends from the installation's).
func (w *Workspace) MailDomain() string {
	if i := strings.LastIndexByte(w.MailFrom, '@'); i >= 0 {
		return strings.ToLower(w.MailFrom[i+1:])
	}
	return ""
}

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// PublicChannels are the kinds a public page may offer.
var PublicChannels = []string{SubscriberEmail, SubscriberWebhook, SubscriberSlack, SubscriberDiscord, SubscriberTeams,
	SubscriberMattermost, SubscriberRocketChat}

// DefaultSubscribeChannels is what a page offers until its workspace says.
var DefaultSubscribeChannels = []string{SubscriberEmail, SubscriberWebhook}

// Offers reports whether the public page offers subscriptions of kind.
func (w *Workspace) Offers(kind string) bool {
	return slices.Contains(w.SubscribeChannels, kind)
}

// CheckSettings validates what an operator may set on a workspace: its
// time zone and its branding (links only to absolute http(s) URLs, so no
// javascript: or data: link reaches the public page).
func (w *Workspace) CheckSettings() error {
	if _, err := time.LoadLocation(w.Timezone); err != nil || w.Timezone == "" || w.Timezone == "Local" {
		return Invalid("timezone", "must be an IANA time zone such as Europe/Berlin or UTC")
	}
	b := &w.Branding
	if err := CheckText("branding.page_title", b.PageTitle, MaxNameLen, false); err != nil {
		return err
	}
	for field, v := range map[string]string{"branding.logo_url": b.LogoURL, "branding.favicon_url": b.FaviconURL} {
		if err := CheckLink(field, v); err != nil {
			return err
		}
	}
	if b.BrandColor != "" && !colorPattern.MatchString(b.BrandColor) {
		return Invalid("branding.brand_color", "must be a colour like #1f6feb")
	}
	if !locale.Valid(w.Language) {
		return Invalid("language", "must be one of %s", locale.Codes())
	}
	if len(w.Access.IPRanges) > MaxIPRanges {
		return Invalid("access.ip_ranges", "at most %d ranges", MaxIPRanges)
	}
	for i, r := range w.Access.IPRanges {
		p, err := netip.ParsePrefix(r)
		if err != nil || p.Masked() != p {
			return Invalid(fmt.Sprintf("access.ip_ranges[%d]", i), "must be an address range such as 203.0.113.0/24 or 2001:db8::/32, found %q", r)
		}
	}
	for i, c := range w.SubscribeChannels {
		if !slices.Contains(PublicChannels, c) {
			return Invalid(fmt.Sprintf("subscribe_channels[%d]", i), "must be one of %s (the page cannot ask visitors for a bot token or an on-call key)",
				strings.Join(PublicChannels, ", "))
		}
	}
	if len(b.FooterLinks) > 10 {
		return Invalid("branding.footer_links", "at most 10 links")
	}
	for _, l := range b.FooterLinks {
		if err := CheckText("branding.footer_links.label", l.Label, 80, true); err != nil {
			return err
		}
		if err := CheckLink("branding.footer_links.url", l.URL); err != nil {
			return err
		}
	}
	return nil
}

// CheckLink accepts empty or absolute http(s) URLs.
func CheckLink(field, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(v) > 2000 {
		return Invalid(field, "must be an absolute http or https URL")
	}
	return nil
}

// PageInvite lets one address read a private page: it is sent a link
// that opens the page, and may ask for a new one.
type PageInvite struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}
