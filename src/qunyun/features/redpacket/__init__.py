"""`redpacket` (红包): members or staff send N packets totalling P points; the first N members
who send the keyword each claim one."""
