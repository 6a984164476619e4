package stormwatch

import "time"

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
	// MailFrom is the sender address of the workspace's mails (an address
	// on its own domain); empty: the operator's --mail-from.
	MailFrom  string    `json:"mail_from"`
	Revision  int64     `json:"revision"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

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
