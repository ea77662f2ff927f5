package fetch

// netrcPassword is the password source between the rc file's and the
// prompt: ~/.netrc (Options.NetrcFile), read by package secrets; this
// says its warnings (once per version of the file, remembered by the
// process's secrets.Store) and names the source at -v -v.
func (s *session) netrcPassword() (string, bool) {
	path := s.opts.NetrcFile
	if path == "" {
		return "", false
	}
	log := s.opts.logger()
	res, err := s.opts.secretStore().Netrc(path, s.job.Server, s.job.User)
	if err != nil {
		log.Warn(err.Error(), "poll", s.label)
		return "", false
	}
	if !res.Found {
		return "", false
	}
	for _, w := range res.Warnings {
		log.Warn(w)
	}
	if res.Loose != "" {
		log.Warn(res.Loose, "poll", s.label)
	}
	debugf(s.opts, "the password for %s comes from %s", s.label, path)
	return res.Password, true
}
