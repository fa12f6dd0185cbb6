# absent.pp - deletes p1 and p2:
#   FACTER_mnt=MNT puppet apply --detailed-exitcodes absent.pp
file { ["${facts['mnt']}/instances/p1", "${facts['mnt']}/instances/p2"]:
  ensure => absent,
  force  => true,
  backup => false,
}
