"""The PowerShell scripts `psremoting.cmdlets.transfer` runs on the remote host.

They target real Windows: Windows PowerShell 5.1 and PowerShell 7, no modules, only .NET
types present in both. Each starts with a stable marker line (``# psremoting-transfer:<name>
v1``): the emulator (a test double that cannot run .NET) recognises a script command by that
line and performs the same contract natively (``psremoting/emulator/engine/builtins_transfer.py``).
Change a script's contract only together with its version in the marker and the emulator.

Contracts (parameters are named; every error is a terminating ``throw`` of the text shown,
so that both sides report the same message):

``list``     ``-Path`` (absolute), ``-Recurse`` (bool). Output: strings ``"<K>\\t<length>\\t<full
             path>"``; the first describes ``Path`` itself (K = ``F`` file, ``D`` directory, ``M``
             missing); with ``-Recurse`` and a directory, then every item below it (parents first).
``mkdir``    ``-Paths`` (absolute paths). Creates each directory (and its parents). Output: none.
             Error: ``Failed to create directory '{0}' on remote destination.``
``upload``   ``-Path`` (the absolute target file), ``-Force`` (bool, optional: replace a
             read-only target; without it that is Delete's "Access to the path ... is denied."). Input: ``byte[]`` chunks, then the SHA-256 of
             the whole file as a lower-case hex string. A chunk's first byte says how the rest
             is coded: 0 as is, 1 raw deflate (RFC 1951; .NET's DeflateStream). Writes a temporary file next to the
             target, checks the hash, then replaces the target. Output: the target path.
             Errors: parent missing, target is a directory, hash mismatch (temp file removed).
``download`` ``-Path`` (absolute file), ``-ChunkSize`` (bytes), ``-Compress`` (bool). Output:
             ``byte[]`` chunks (first byte 0: ChunkSize bytes at most as is; 1: raw deflate of
             ChunkSize bytes, sent only when that saves 10%; the first chunk that does not
             compress turns compression off), then the SHA-256 as a lower-case hex string.
"""

from __future__ import annotations

__all__ = ["MARKER_PREFIX", "SCRIPTS", "marker"]

MARKER_PREFIX = "# psremoting-transfer:"


def marker(name: str) -> str:
    """The first line of script ``name`` (``# psremoting-transfer:upload v1``)."""
    return f"{MARKER_PREFIX}{name} v1"


# Lifts the remote pipeline's input deserialization memory cap (cumulative over a pipeline's
# input: a file of tens of MB would exceed it). Internal API reached by reflection, as
# pypsrp's copy.ps1 does; a failure only limits the largest file, so it is a warning.
_LIFT_INPUT_CAP = r"""
    try {
        $flags = [Reflection.BindingFlags]'NonPublic, Instance'
        $o = $Host.GetType().GetProperty('ExternalHost', $flags).GetValue($Host, $null)
        $o = $o.GetType().GetField('_transportManager', $flags).GetValue($o)
        $o = $o.GetType().GetProperty('Fragmentor', $flags).GetValue($o, $null)
        $o = $o.GetType().GetProperty('DeserializationContext', $flags).GetValue($o, $null)
        $o.GetType().GetProperty('MaximumAllowedMemory', $flags).SetValue($o, $null, $null)
    } catch {
        Write-Warning "Could not lift the remote input size limit; very large files may fail: $($_.Exception.Message)"
    }
"""

LIST = (
    marker("list")
    + r"""
param([string]$Path, [bool]$Recurse)
$ErrorActionPreference = 'Stop'
if ([IO.Directory]::Exists($Path)) {
    $root = (New-Object IO.DirectoryInfo $Path).FullName
    "D`t0`t$root"
    if ($Recurse) {
        Get-ChildItem -LiteralPath $root -Recurse -Force | ForEach-Object {
            if ($_.PSIsContainer) { "D`t0`t$($_.FullName)" } else { "F`t$($_.Length)`t$($_.FullName)" }
        }
    }
} elseif ([IO.File]::Exists($Path)) {
    $f = New-Object IO.FileInfo $Path
    "F`t$($f.Length)`t$($f.FullName)"
} else {
    "M`t0`t$Path"
}
"""
)

MKDIR = (
    marker("mkdir")
    + r"""
param([string[]]$Paths)
$ErrorActionPreference = 'Stop'
foreach ($p in $Paths) {
    if ([IO.File]::Exists($p)) { throw "Failed to create directory '$p' on remote destination." }
    try { $null = [IO.Directory]::CreateDirectory($p) }
    catch { throw "Failed to create directory '$p' on remote destination." }
}
"""
)

UPLOAD = (
    marker("upload")
    + r"""
param([string]$Path, [bool]$Force)
begin {
    $ErrorActionPreference = 'Stop'
"""
    + _LIFT_INPUT_CAP
    + r"""
    if ([IO.Directory]::Exists($Path)) {
        throw "Failed to copy file $Path to remote target destination: it is a directory."
    }
    $dir = [IO.Path]::GetDirectoryName($Path)
    if (-not [IO.Directory]::Exists($dir)) {
        throw "Failed to copy file $Path to remote target destination: the folder $dir does not exist."
    }
    $temp = [IO.Path]::Combine($dir, '.' + [IO.Path]::GetFileName($Path) + '.' + [guid]::NewGuid().ToString('N') + '.psrtmp')
    $stream = [IO.File]::Open($temp, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)
    $sha = [Security.Cryptography.SHA256]::Create()
    $expected = $null
    $buffer = New-Object byte[] 262144
}
process {
    try {
        if ($_ -is [byte[]]) {
            if ($_.Length -gt 1 -and $_[0] -eq 1) {
                $packed = [IO.MemoryStream]::new($_, 1, $_.Length - 1)
                $inflate = [IO.Compression.DeflateStream]::new($packed, [IO.Compression.CompressionMode]::Decompress)
                while (($n = $inflate.Read($buffer, 0, $buffer.Length)) -gt 0) {
                    $null = $sha.TransformBlock($buffer, 0, $n, $null, 0)
                    $stream.Write($buffer, 0, $n)
                }
                $inflate.Dispose()
            } elseif ($_.Length -gt 1) {
                $null = $sha.TransformBlock($_, 1, $_.Length - 1, $null, 0)
                $stream.Write($_, 1, $_.Length - 1)
            }
        } else {
            $expected = [string]$_
        }
    } catch {
        $stream.Dispose(); [IO.File]::Delete($temp); throw
    }
}
end {
    try {
        $null = $sha.TransformFinalBlock((New-Object byte[] 0), 0, 0)
        $stream.Dispose()
        $actual = [BitConverter]::ToString($sha.Hash).Replace('-', '').ToLowerInvariant()
        if ($actual -ne $expected) {
            throw "Failed to copy file $Path to remote target destination: the SHA-256 of the data received ($actual) does not match the source ($expected); the partial file was removed."
        }
        if ([IO.File]::Exists($Path)) {
            if ($Force) { [IO.File]::SetAttributes($Path, [IO.FileAttributes]::Normal) }
            [IO.File]::Delete($Path)
        }
        [IO.File]::Move($temp, $Path)
    } finally {
        $stream.Dispose()
        if ([IO.File]::Exists($temp)) { [IO.File]::Delete($temp) }
    }
    $Path
}
"""
)

DOWNLOAD = (
    marker("download")
    + r"""
param([string]$Path, [int]$ChunkSize, [bool]$Compress)
$ErrorActionPreference = 'Stop'
if (-not [IO.File]::Exists($Path)) { throw "Failed to read remote file '$Path'." }
$stream = [IO.File]::Open($Path, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]::Read)
try {
    $sha = [Security.Cryptography.SHA256]::Create()
    while ($true) {
        # byte 0 says how the rest is coded: 0 as is, 1 raw deflate.
        $buffer = New-Object byte[] ($ChunkSize + 1)
        $n = $stream.Read($buffer, 1, $ChunkSize)
        if ($n -le 0) { break }
        $null = $sha.TransformBlock($buffer, 1, $n, $null, 0)
        if ($Compress) {
            $packed = [IO.MemoryStream]::new()
            $packed.WriteByte(1)
            $deflate = [IO.Compression.DeflateStream]::new($packed, [IO.Compression.CompressionLevel]::Fastest, $true)
            $deflate.Write($buffer, 1, $n)
            $deflate.Dispose()
            if ($packed.Length -lt $n * 0.9) {
                , $packed.ToArray()
                continue
            }
            $Compress = $false  # incompressible: send the rest as is
        }
        if ($n -lt $ChunkSize) { $chunk = New-Object byte[] ($n + 1); [Array]::Copy($buffer, $chunk, $n + 1); $buffer = $chunk }
        , $buffer
    }
    $null = $sha.TransformFinalBlock((New-Object byte[] 0), 0, 0)
    [BitConverter]::ToString($sha.Hash).Replace('-', '').ToLowerInvariant()
} finally {
    $stream.Dispose()
}
"""
)

#: name -> script text (its first line is ``marker(name)``).
SCRIPTS: dict[str, str] = {"list": LIST, "mkdir": MKDIR, "upload": UPLOAD, "download": DOWNLOAD}
