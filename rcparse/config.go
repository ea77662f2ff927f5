package rcparse

// Config is one parsed .fetchmailrc after the post-parse rules (defaults
// merged, built-in defaults applied). Its JSON form is the schema of
// --configdump; keys mirror fetchmail's configdump (see docs/configdump.md).
type Config struct {
	Daemon     int       `json:"daemon"` // poll interval in seconds; 0 = not a daemon
	Logfile    *string   `json:"logfile"`
	Idfile     string    `json:"idfile"`
	Pidfile    *string   `json:"pidfile,omitempty"`
	Postmaster string    `json:"postmaster"`
	Bouncemail bool      `json:"bouncemail"`
	Spambounce bool      `json:"spambounce"`
	Softbounce bool      `json:"softbounce"`
	Properties *string   `json:"properties"`
	Invisible  bool      `json:"invisible"`
	Showdots   bool      `json:"showdots"`
	Syslog     bool      `json:"syslog"`
	Servers    []*Server `json:"servers"`

	// File is the rc file's path as given (not part of the dump).
	File string `json:"-"`

	// spelled maps the path options whose "~" was expanded to fetchmail's
	// spelling of them, which --configdump shows (fetchmail does not expand
	// "~"); idfileSpelled is that of Idfile while it holds the rc's value.
	spelled       map[*string]string
	idfileSpelled *string
	idfileParsed  string
}

// Server is one poll (or skip) entry with its user entries.
type Server struct {
	Pollname      string   `json:"pollname"`
	Skip          bool     `json:"skip"`
	Via           *string  `json:"via"`
	Protocol      string   `json:"protocol"` // "auto", "POP3", "IMAP", "APOP", "RPOP", "KPOP", "ETRN", "ODMR", "POP2"
	Port          *string  `json:"port"`     // fetchmail's "service": always a string ("110", "pop3s")
	Timeout       int      `json:"timeout"`
	Interval      int      `json:"interval"`
	Envelope      *string  `json:"envelope"`
	Envskip       int      `json:"envskip"`
	Qvirtual      *string  `json:"qvirtual"`
	Auth          string   `json:"auth"`
	DNS           bool     `json:"dns"`
	UIDL          bool     `json:"uidl"`
	Aka           []string `json:"aka"`
	Localdomains  []string `json:"localdomains"`
	Interface     *string  `json:"interface"`
	Monitor       *string  `json:"monitor"`
	Plugin        *string  `json:"plugin"`
	Plugout       *string  `json:"plugout"`
	Principal     *string  `json:"principal"`
	Esmtpname     *string  `json:"esmtpname"`
	Esmtppassword *string  `json:"esmtppassword"`
	Tracepolls    bool     `json:"tracepolls"`
	Badheader     string   `json:"badheader"` // "reject" or "accept"
	Users         []*User  `json:"users"`

	// Extensions (gofetchmail only).
	SSHTunnel *string `json:"sshtunnel,omitempty"` // "[user@]host[:port]"

	// IdleTimeout is fetchmail 6.5's "idletimeout N": re-issue IDLE after N
	// seconds (0 = the built-in default).
	IdleTimeout int `json:"idletimeout,omitempty"`

	// SDPS is set by "proto sdps" (POP3 with Demon SDPS; dumped as POP3).
	SDPS bool `json:"-"`

	// CheckAlias is the "checkalias" multidrop option (not in the dump).
	CheckAlias bool `json:"-"`

	// Line is the rc line where the entry starts (not part of the dump).
	Line int `json:"-"`
}

// LocalName is one element of a user's local-name list: a plain name, a
// server=local mapping, or the "*" wildcard.
type LocalName struct {
	Remote   string // set for a mapping "remote=local"
	Local    string
	Wildcard bool
	// Pair is set for a "remote=local" mapping, even when Remote is empty.
	Pair bool
}

// User is one user entry of a server.
type User struct {
	Remotename     string      `json:"remotename"`
	Password       *string     `json:"password"`
	Localnames     []LocalName `json:"localnames"`
	Fetchall       bool        `json:"fetchall"`
	Keep           bool        `json:"keep"`
	Flush          bool        `json:"flush"`
	Limitflush     bool        `json:"limitflush"`
	Rewrite        bool        `json:"rewrite"`
	Stripcr        bool        `json:"stripcr"`
	Forcecr        bool        `json:"forcecr"`
	Pass8bits      bool        `json:"pass8bits"`
	Dropstatus     bool        `json:"dropstatus"`
	Dropdelivered  bool        `json:"dropdelivered"`
	Mimedecode     bool        `json:"mimedecode"`
	Idle           bool        `json:"idle"`
	MDA            *string     `json:"mda"`
	BSMTP          *string     `json:"bsmtp"`
	LMTP           bool        `json:"lmtp"`
	Preconnect     *string     `json:"preconnect"`
	Postconnect    *string     `json:"postconnect"`
	Limit          int         `json:"limit"`
	Warnings       int         `json:"warnings"`
	Fetchlimit     int         `json:"fetchlimit"`
	Fetchsizelimit int         `json:"fetchsizelimit"`
	Fastuidl       int         `json:"fastuidl"`
	Batchlimit     int         `json:"batchlimit"`
	SSL            bool        `json:"ssl"`
	SSLKey         *string     `json:"sslkey"`
	SSLCert        *string     `json:"sslcert"`
	SSLProto       *string     `json:"sslproto"`
	SSLCertck      bool        `json:"sslcertck"`
	SSLCertfile    *string     `json:"sslcertfile"`
	SSLCertpath    *string     `json:"sslcertpath"`
	SSLCommonname  *string     `json:"sslcommonname"`
	SSLFingerprint *string     `json:"sslfingerprint"`
	Expunge        int         `json:"expunge"`
	Properties     *string     `json:"properties"`
	Smtphunt       []string    `json:"smtphunt"`
	Fetchdomains   []string    `json:"fetchdomains"`
	Smtpaddress    *string     `json:"smtpaddress"`
	Smtpname       *string     `json:"smtpname"`
	Antispam       []int       `json:"antispam"`
	Mailboxes      []string    `json:"mailboxes"` // the "folder" list

	// ExpungeSet tells an explicit "expunge 0" from no expunge option.
	ExpungeSet bool `json:"-"`

	// Newer fetchmail keywords: 6.5 "forceidle", 7.0 "passwordfile" and
	// "passwordfd".
	Forceidle    bool    `json:"forceidle,omitempty"`
	Passwordfile *string `json:"passwordfile,omitempty"`
	Passwordfd   *int    `json:"passwordfd,omitempty"`

	// Keepdays is the "keepdays N" extension: with keep, a message is
	// deleted on the server by the first poll N days or more after it was
	// delivered (docs/extensions.md). nil when not set.
	Keepdays *int `json:"keepdays,omitempty"`

	// Extensions (gofetchmail only).
	Maildir      *string `json:"maildir,omitempty"`
	Mbox         *string `json:"mbox,omitempty"`
	Tokencommand *string `json:"tokencommand,omitempty"` // OAuth2 token helper command

	// OAuth2 done by the program (docs/oauth2.md). The client secret is
	// never dumped: --configdump output gets pasted into bug reports.
	OAuthProvider     *string `json:"oauthprovider,omitempty"`
	OAuthAuthURL      *string `json:"oauthauthurl,omitempty"`
	OAuthDeviceURL    *string `json:"oauthdeviceurl,omitempty"`
	OAuthTokenURL     *string `json:"oauthtokenurl,omitempty"`
	OAuthScope        *string `json:"oauthscope,omitempty"`
	OAuthClientID     *string `json:"oauthclientid,omitempty"`
	OAuthClientSecret *string `json:"-"`

	// Line is the rc line where the user description starts (not part of
	// the dump).
	Line int `json:"-"`
}
