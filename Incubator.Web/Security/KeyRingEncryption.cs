using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Incubator.Web.Extensions;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Security;

/// <summary>Encrypts each key of the Data Protection key ring with AES-256-GCM under the operator's 32-byte key
/// (<see cref="KeyRingOptions.Key"/>, or <c>INCUBATOR_KEYRING_KEY</c>). The element records which key (an 8-byte
/// fingerprint, not the key) wrapped it, so decryption can pick a previous key during a rotation and can say clearly
/// when none of the configured keys fits.</summary>
internal sealed class KeyRingXmlEncryptor(byte[] key) : IXmlEncryptor
{
    public const string ElementName = "incubatorEncryptedKey";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        var cipher = new byte[plaintext.Length];
        using (var aes = new AesGcm(key, tag.Length)) aes.Encrypt(nonce, plaintext, cipher, tag);
        var element = new XElement(ElementName,
            new XComment(" Encrypted with the key ring key (KeyRing:Key / INCUBATOR_KEYRING_KEY); without it this key cannot be read. "),
            new XAttribute("keyFingerprint", KeyRingKeys.Fingerprint(key)),
            new XElement("nonce", Convert.ToBase64String(nonce)),
            new XElement("tag", Convert.ToBase64String(tag)),
            new XElement("value", Convert.ToBase64String(cipher)));
        return new EncryptedXmlInfo(element, typeof(KeyRingXmlDecryptor));
    }
}

/// <summary>Decrypts what <see cref="KeyRingXmlEncryptor"/> wrote, with the current key or one of the previous keys.
/// Created by Data Protection's activator, hence the service-provider constructor.</summary>
internal sealed class KeyRingXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) =>
        KeyRingKeys.Decrypt(encryptedElement, services.GetRequiredService<IOptions<KeyRingOptions>>().Value.AllKeys());
}

internal static class KeyRingKeys
{
    public static string Fingerprint(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key))[..16];

    public static XElement Decrypt(XElement encrypted, IReadOnlyList<byte[]> keys)
    {
        var fingerprint = (string?)encrypted.Attribute("keyFingerprint");
        var key = keys.FirstOrDefault(k => Fingerprint(k) == fingerprint)
            ?? throw new CryptographicException(
                $"This key of the key ring was encrypted with a key ring key (fingerprint {fingerprint}) that is not configured. " +
                "Set it as KeyRing:Key or keep it in KeyRing:PreviousKeys; without it, what it protected must be entered again.");
        var nonce = Convert.FromBase64String((string?)encrypted.Element("nonce") ?? "");
        var tag = Convert.FromBase64String((string?)encrypted.Element("tag") ?? "");
        var cipher = Convert.FromBase64String((string?)encrypted.Element("value") ?? "");
        var plaintext = new byte[cipher.Length];
        using (var aes = new AesGcm(key, tag.Length)) aes.Decrypt(nonce, cipher, tag, plaintext);
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}

/// <summary>Brings the key files in the key ring folder under the configured protection at start: keys written before
/// any protection was configured are encrypted now, and keys wrapped with a previous key ring key are wrapped again with
/// the current one. Without this, enabling protection would leave every existing key readable in the folder, and a
/// rotation would never let the old key go. Each file is replaced atomically.</summary>
internal static class KeyRingFiles
{
    private static readonly XNamespace Dp = "http://schemas.asp.net/2015/03/dataProtection";

    public sealed record Result(int Encrypted, int Rewrapped, int Plaintext, int Unreadable);

    /// <summary>Counts (and, with an encryptor, fixes) the key files of <paramref name="folder"/>.</summary>
    public static Result Protect(string folder, IXmlEncryptor? encryptor, IReadOnlyList<byte[]> ownKeys, byte[]? currentKey)
    {
        int encrypted = 0, rewrapped = 0, plaintext = 0, unreadable = 0;
        if (!Directory.Exists(folder)) return new Result(0, 0, 0, 0);
        foreach (var file in Directory.EnumerateFiles(folder, "*.xml"))
        {
            var doc = XDocument.Load(file, LoadOptions.PreserveWhitespace);
            var changed = false;
            foreach (var secret in doc.Descendants().Where(e => (string?)e.Attribute(Dp + "requiresEncryption") == "true").ToList())
            {
                plaintext++;
                if (encryptor is null) continue;
                var info = encryptor.Encrypt(new XElement(secret));
                secret.ReplaceWith(new XElement(Dp + "encryptedSecret",
                    new XAttribute("decryptorType", info.DecryptorType.AssemblyQualifiedName!), info.EncryptedElement));
                encrypted++;
                changed = true;
            }
            foreach (var wrapped in doc.Descendants(KeyRingXmlEncryptor.ElementName).ToList())
            {
                if (currentKey is null || (string?)wrapped.Attribute("keyFingerprint") == KeyRingKeys.Fingerprint(currentKey)) continue;
                XElement inner;
                try
                {
                    inner = KeyRingKeys.Decrypt(wrapped, ownKeys);
                }
                catch (CryptographicException)
                {
                    unreadable++;
                    continue;
                }
                wrapped.ReplaceWith(new KeyRingXmlEncryptor(currentKey).Encrypt(inner).EncryptedElement);
                rewrapped++;
                changed = true;
            }
            if (!changed) continue;
            var temp = file + ".tmp";
            doc.Save(temp, SaveOptions.DisableFormatting);
            File.Move(temp, file, overwrite: true);
        }
        return new Result(encrypted, rewrapped, encryptor is null ? plaintext : 0, unreadable);
    }
}
