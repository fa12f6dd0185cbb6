# instances.pp - two instances, applied by tests/integration/puppet.sh as
#   FACTER_mnt=MNT FACTER_state=STATE puppet apply --detailed-exitcodes instances.pp
# p1 gets its attributes one file at a time, p2 all of them through its
# spec; both are then waited for until they are in STATE.
$i = "${facts['mnt']}/instances"
$want = $facts['state']
File { backup => false }

file { ["${i}/p1", "${i}/p2"]: ensure => directory }

file { "${i}/p1/flavor": content => "m1.tiny\n" }
file { "${i}/p1/image": content => "tiny\n" }
file { "${i}/p1/network": content => "lab\ndefault\n" }
file { "${i}/p1/target_state":
  content => "${want}\n",
  require => File["${i}/p1/flavor", "${i}/p1/image", "${i}/p1/network"],
}

file { "${i}/p2/spec":
  content => @("SPEC"),
    # p2: everything it should be
    flavor = m1.small
    image = tiny
    network = lab default
    target_state = ${want}
    | SPEC
}

# Waiting is an exec that runs only while the state is not there yet.
['p1', 'p2'].each |$p| {
  exec { "${p} is ${want}":
    command   => "/bin/grep -qx ${want} ${i}/${p}/state",
    unless    => "/bin/grep -qx ${want} ${i}/${p}/state",
    tries     => 40,
    try_sleep => 0.5,
    require   => File["${i}/p1/target_state", "${i}/p2/spec"],
  }
}
