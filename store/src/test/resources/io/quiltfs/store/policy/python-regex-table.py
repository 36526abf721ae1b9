import re, json, warnings
warnings.simplefilter('ignore')
pats = [r'^(?P<team_name>[a-z_]+)/(?P<pkg>.+)$', r'^(?P<t>a)(?P=t)$', r'^a{,2}$', r'^a{2,}$', r'^a{2}$', r'{', r'^x{1,2$', r'a{,}', r'^{}$', r'^\{\}$',
  r'\p{L}', r'\h', r'\R', r'\Qa\E', r'a\z', r'(?<n>a)', r'[a&&b]', r'[[a]', r'ab\Z', r'\d', r'\w+', r'^\w+$', r'(?i)^Straße$', r'(?a)^\w+$',
  r'(?x) ^ a \  b [ ] $ # comment', r'a(?i)b', r'(?L)a', r'(?#note)^a$', r'(?i:A)b', r'\N{DIGIT ONE}', r'[\d-z]', r'(?P<a>(?P=a))', r'^(?P<é>x)$',
  r'\x41', r'\x{41}', r'\U0001F600', r'[]a]', r'[^]]', r'a**', r'a*+b', r'(?>a)', r'\8', r'(a)\1', r'(a)\2', r'\101', r'\400', r'\0', r'\v', r'^.$',
  r'^a$', r'[\b]', r'a|*', r'(', r')', r'[a', r'^[a-]$', r'^[-a]$', r'[z-a]', r'(?P<1a>x)', r'(?P<a>x)(?P<a>y)', r'\e', r'\G', r'\k<a>', r'\c', r'(?s).', r'^\s$', r'^[\w.-]+/[\w.-]+$', r'(?u)\w', r'(?au)a', r'^\d+$', r'(?P<x>', r'(?(1)a|b)', r'\b*', r'^(?-i:a)$', r'[\A]', r'\é', r'a{3,1}',
  r'(?<=a{2})b', r'(?<=a{1,2})b', r'(?<=a|b)b', r'(?<=a|bc)d', r'(?<=(?:ab)+)c', r'(?<=\b)a', r'(?<=a*)b', r'(?<=a{0})b',
  r'(?<=(a))b', r'(?<=(a)\1)b', r'(?<=a(?=bc*))b', r'(?<=[ab]c.)d', r'(?<=\x41\d)b', r'(?<=a(?i:bc))d', r'(?<=(?<=a+)b)c',
  r'(?<=a?)b', r'(?<=ab|(?:cd))x', r'(?<=a{2}|aa)b', r'(?<=a{,2})x', r'(?<!ab|c)x', r'(?<=(?P<n>ab)(?P=n))x', r'(?<!a)b',
  r'(?<=^a)b', r'(?<=a(?#c))b', r'(?<=(?:a|b)c)\w', r'(a)(?<=\1)b', r'(a)(?(1)a|b)',
  r'\w', r'\W', r'\s', r'\S', r'[\w]', r'[^\W]', r'[\S]', r'[^\s]', r'\bx', r'x\b', r'\B', r'^\B$', r'(?a)\b', r'(?a:\w)', r'(?a:\b)é', r'(?a:\s)|\s', r'(?i)\w', r'\b\w+\b']
inputs = ['team_name/pkg', 'a_b/c', 'aa', 'a', '', 'aaa', '{', 'x{1,2', '{}', 'ab', 'a b', 'é', 'ab\n', 'ab', '١٢٣', 'STRASSE', 'straße', 'Straße', 'x', '\x0b', '\n', '\x08', 'a-', '-a', 'AB', 'Ab', 'aB', 'A', '1', '😀', '\u2028', 'A', '\x00', 'b', 'z', '\u0301', '²', '\x1c', '‿', ' ', 'x é', 'éx', '_\u0301']
rows = []
for p in pats:
    try:
        r = re.compile(p)
        rows.append([p, True, ''.join('1' if r.search(s) else '0' for s in inputs)])
    except re.error as e:
        rows.append([p, False, str(e)])
print(json.dumps({'inputs': inputs, 'rows': rows}, ensure_ascii=True))
