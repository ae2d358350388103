import { describe, expect, test } from 'vitest';
import { commandProblems, commandTemplateProblems } from '../../src/playbook/command-templates.js';
import { templateSites } from '../../src/playbook/shell-quoting.js';

// How the shell reads each template of a command (spec 7), judged on the text after YAML.
const quotings = (command: string) => templateSites(command).map((s) => s.quoting);

describe('templateSites: templates the shell reads as bare words', () => {
  test.each([
    ['echo {{ params.x }}'],
    ['printf "%s\\n" {{ params.banner }} > "$(dirname {{ inventory.sessions.file }})/banner.txt"'],
    ['grep -qxF {{ params.banner }} "$(dirname {{ inventory.sessions.file }})/banner.txt"'],
    ['cat "$(dirname {{ inventory.sessions.file }})/banner.txt"'],
    ['echo "`basename {{ params.x }}`"'],
    ['echo \\"{{ params.x }}\\"'],
    ["echo \\'{{ params.x }}\\'"],
    ['test "$(stat -c %G {{ params.dir }})" = lighttpd'],
    ['echo "a $(echo "b" {{ params.x }}) c"'],
    ['echo $(( {{ inventory.database.port }} << 1 ))'],
    ['cat <<<{{ params.x }}'],
    ['echo "it\'s" {{ params.x }}'],
    ["echo '\"' {{ params.x }} '\"'"],
    ['echo "a\\"b" {{ params.x }}'],
    ["echo $'it\\'s' {{ params.x }}"],
    ['echo ${HOME:-/root} {{ params.x }}'],
    ['true # don\'t {{ params.x }}\necho {{ params.y }}'],
    ['cat <<EOF\nbody\nEOF\necho {{ params.x }}'],
    ['cat <<-END\n\tbody\n\tEND\necho {{ params.x }}'],
    ['cat <<EOF\n$(basename {{ params.x }})\nEOF'],
  ])('%j', (command) => {
    const sites = quotings(command);
    expect(sites.length).toBeGreaterThan(0);
    expect(sites.every((q) => q === 'bare')).toBe(true);
    expect(commandTemplateProblems(command, ['run'])).toEqual([]);
  });
});

describe('templateSites: templates the shell reads quoted', () => {
  test.each([
    ['"{{ params.x }}"', ['double quotes']],
    ["'{{ params.x }}'", ['single quotes']],
    ['echo "a {{ params.x }} b"', ['double quotes']],
    ["echo 'a {{ params.x }} b'", ['single quotes']],
    ["echo $'a {{ params.x }}'", ['single quotes']],
    ['echo "$(echo "{{ params.x }}")"', ['double quotes']],
    ['echo "$(basename {{ params.x }})/{{ params.y }}"', ['bare', 'double quotes']],
    ["echo \"`echo '{{ params.x }}'`\"", ['single quotes']],
    ['echo {{ params.x }} "{{ params.y }}"', ['bare', 'double quotes']],
    ['echo "multi\nline {{ params.x }}"', ['double quotes']],
    ['echo "${X:-{{ params.x }}}"', ['double quotes']],
    ['cat <<EOF\n$(basename "{{ params.x }}")\nEOF', ['double quotes']],
  ])('%j', (command, expected) => {
    expect(quotings(command)).toEqual(expected);
  });
});

describe('templateSites: here-documents', () => {
  test.each([
    ['cat <<EOF\n{{ params.x }}\nEOF'],
    ['cat <<EOF > /tmp/f\nname={{ params.x }}\nEOF\n'],
    ['cat <<-EOF\n\t{{ params.x }}\n\tEOF'],
    ["cat <<'EOF'\n{{ params.x }}\nEOF"],
    ['cat <<"EOF"\n{{ params.x }}\nEOF'],
    ['cat <<\\EOF\n{{ params.x }}\nEOF'],
    ["cat <<'EOF'\n$(basename {{ params.x }})\nEOF"],
    ['x=$(cat <<EOF\n{{ params.x }}\nEOF\n)'],
    ['cat <<A <<B\na\nA\n{{ params.x }}\nB'],
  ])('%j', (command) => {
    expect(quotings(command)).toContain('a here-document');
    expect(quotings(command)).not.toContain('bare');
  });

  test('the command after a here-document is read afresh', () => {
    expect(quotings('cat <<EOF\n{{ params.x }}\nEOF\necho {{ params.y }} "{{ params.z }}"')).toEqual([
      'a here-document',
      'bare',
      'double quotes',
    ]);
  });
});

describe('commandTemplateProblems and commandProblems', () => {
  test('one problem per quoted template, naming it and the quoting', () => {
    const problems = commandTemplateProblems('echo "{{ params.x }}" \'{{ params.y }}\' {{ params.z }}', ['steps', 0, 'with', 'run']);
    expect(problems.map((p) => p.problem)).toEqual([
      expect.stringMatching(/^\{\{ params\.x \}\} is inside double quotes, /),
      expect.stringMatching(/^\{\{ params\.y \}\} is inside single quotes, /),
    ]);
    expect(problems[0]).toMatchObject({ path: ['steps', 0, 'with', 'run'], hint: expect.stringMatching(/outside the quotes/) });
  });

  test('a malformed template is one syntax problem', () => {
    expect(commandProblems('echo "{{ params.x"', ['checks', 0, 'run'])).toEqual([
      expect.objectContaining({ path: ['checks', 0, 'run'], problem: expect.stringMatching(/unbalanced braces/) }),
    ]);
    expect(commandProblems('echo {{ params.x }}', ['checks', 0, 'run'])).toEqual([]);
  });
});
