# set.pp - one file (or, without FACTER_value, a directory), with an
# owner and a mode if given:
#   FACTER_target=MNT/instances/p1/flavor FACTER_value=m1.tiny FACTER_mode=0600 \
#     puppet apply --detailed-exitcodes set.pp
# The value gets a final newline.
$v = $facts['value']
file { $facts['target']:
  ensure  => $v ? { undef => directory, default => file },
  content => $v ? { undef => undef, default => "${v}\n" },
  owner   => $facts['owner'],
  mode    => $facts['mode'],
  backup  => false,
}
